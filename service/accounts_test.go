package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ledger/invoices/ubltest"
)

// dutchAddress is a customer's address as PEPPOL's NL-R-004 wants it for a Dutch customer.
var dutchAddress = map[string]any{"street": "Dorpsstraat 1", "city": "Utrecht", "postal_code": "3511 AA"}

type accountDetails struct {
	Name    string `json:"name"`
	VATID   string `json:"vat_id"`
	Address *struct {
		Street     string `json:"street"`
		City       string `json:"city"`
		PostalCode string `json:"postal_code"`
	} `json:"address"`
	PeppolID string   `json:"peppol_id"`
	Missing  []string `json:"invoice_details_missing"`
}

// CONTRACT 3.1, PEPPOL BIS 3.0: an account says what its invoices lack for PEPPOL; PATCH adds
// it (finance, audited, held to the rules of creation); the invoices issued before keep what
// they printed, the next ones print the new details and pass EN 16931 and PEPPOL BIS 3.0,
// NL-R-004 included.
func TestAccountDetails_PATCH_and_PEPPOL(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	var got accountDetails
	if status, raw := e.do("GET", "/v1/accounts/acme", nil, &got); status != 200 {
		t.Fatalf("GET: %d %s", status, raw)
	}
	if m := strings.Join(got.Missing, " | "); !strings.Contains(m, "PEPPOL-EN16931-R010") || !strings.Contains(m, "NL-R-004") {
		t.Errorf("invoice_details_missing %q, want the electronic address (R010) and the address (NL-R-004)", got.Missing)
	}
	e.publish(nil, smsAt("m-1", "acme", 10, "2026-03-10T08:00:00Z"))
	e.waitUnbilled("acme", "0.750000")
	e.setClock("2026-04-01T08:00:00Z")

	// Refused changes: a part of an address, nothing at all, an unknown field, a bad PEPPOL id.
	for body, wantStatus := range map[string]int{
		`{"address":{"street":"Dorpsstraat 1"}}`: 400,
		`{}`:                                     400,
		`{"colour":"blue"}`:                      400,
		`{"peppol_id":"EM:ap@acme.example"}`:     400,
	} {
		if status, raw := e.apiRaw("", "PATCH", "/v1/accounts/acme", body); status != wantStatus {
			t.Errorf("PATCH %s: %d %s, want %d", body, status, raw, wantStatus)
		}
	}
	if status, raw := e.apiRaw("", "PATCH", "/v1/accounts/nobody", `{"name":"X"}`); status != 404 {
		t.Errorf("PATCH an unknown account: %d %s, want 404", status, raw)
	}
	// R5: a Belgian customer keeps a VAT id (reverse charge).
	e.createAccount("beta", map[string]any{"country": "BE", "vat_id": "BE0123456789"})
	if status, raw := e.apiRaw("", "PATCH", "/v1/accounts/beta", `{"vat_id":""}`); status != 422 || !strings.Contains(string(raw), "R5") {
		t.Errorf("PATCH away a Belgian VAT id: %d %s, want 422 naming R5", status, raw)
	}

	got = accountDetails{}
	status, raw := e.do("PATCH", "/v1/accounts/acme", map[string]any{"name": "Acme Bakeries B.V.", "vat_id": "nl 123456789 b01",
		"address": dutchAddress}, &got)
	if status != 200 || got.Name != "Acme Bakeries B.V." || got.VATID != "NL123456789B01" || got.Address == nil ||
		got.Address.PostalCode != "3511 AA" || len(got.Missing) != 0 {
		t.Fatalf("PATCH: %d %s; want 200 with the new details and nothing missing", status, raw)
	}
	audit, _ := e.auditPage("", "?account=acme")
	found := false
	for _, r := range audit.Items {
		found = found || (r.Method == "PATCH" && r.Status == 200)
	}
	if !found {
		t.Errorf("no audit record of the PATCH in %+v (CONTRACT 3.10)", audit.Items)
	}

	e.publish(nil, smsAt("a-1", "acme", 10, "2026-04-10T08:00:00Z"))
	e.waitUnbilled("acme", "0.750000")
	e.setClock("2026-05-01T08:00:00Z")
	list := e.invoices("account=acme")
	if len(list) != 2 {
		t.Fatalf("%d invoices, want March's and April's", len(list))
	}
	march, april := e.get("/v1/invoices/"+list[0].ID+".xml"), e.get("/v1/invoices/"+list[1].ID+".xml")
	if strings.Contains(string(march), "Dorpsstraat") || strings.Contains(string(march), "Acme Bakeries") {
		t.Errorf("March's invoice, issued before the change, prints the new details: invoices keep what they printed")
	}
	if !strings.Contains(string(april), "<cbc:StreetName>Dorpsstraat 1</cbc:StreetName>") || !strings.Contains(string(april), `schemeID="9944"`) {
		t.Errorf("April's invoice lacks the new address or the VAT id's electronic address:\n%s", april)
	}
	f := filepath.Join(t.TempDir(), list[1].ID+".xml")
	if err := os.WriteFile(f, april, 0o644); err != nil {
		t.Fatal(err)
	}
	ubltest.Validate(t, f)
}
