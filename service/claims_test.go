package service_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ledger/service"
)

// jsonObject decodes an answer that must be one JSON object and returns its fields as raw JSON.
func jsonObject(t *testing.T, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, raw)
	}
	return obj
}

// wantFields checks an object's field names exactly and the values given (as raw JSON, "null"
// or a quoted string).
func wantFields(t *testing.T, what string, obj map[string]json.RawMessage, names []string, values map[string]string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(names)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s has fields %v, want %v", what, got, names)
	}
	for k, v := range values {
		if string(obj[k]) != v {
			t.Errorf("%s: %s = %s, want %s", what, k, obj[k], v)
		}
	}
}

var (
	claimFields     = []string{"id", "account", "amount", "incident_at", "reason", "granted", "refused", "cap", "paid_12m", "granted_total", "remaining", "first_incident_at", "created_at"}
	liabilityFields = []string{"cap", "paid_12m", "granted_total", "remaining", "first_incident_at", "window_from", "window_to", "claims"}
)

// R12 (T&C 8.4) and R8 through the running service (CONTRACT 3.5): the liability before any
// claim; a claim granted in full, its credit set off against the open invoice; a retry; a
// conflicting retry; a claim granted in part and one granted nothing, both 201 with the refusal
// naming T&C 8.4; malformed claims 400, an unknown account 404; the liability and the list of
// claims afterwards, across a restart.
func TestClaims_through_the_service(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, smsAt("a-1", "acme", 1000, "2026-03-10T08:00:00Z")) // 75.00
	e.waitUnbilled("acme", "75.000000")
	e.setClock("2026-04-02T10:00:00Z") // March invoiced: 90.75, due 15 April
	inv := e.invoices("account=acme")[0]
	want(t, "March's invoice", inv.Total+" "+inv.Outstanding, "90.75 90.75")
	if status, raw := e.do("POST", "/v1/accounts/acme/payments", map[string]any{"id": "p-1", "amount": "50.00",
		"received_at": "2026-04-02T09:00:00Z", "sepa": true}, nil); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}

	// Before any claim: the 12 months before now.
	status, raw := e.do("GET", "/v1/accounts/acme/liability", nil, nil)
	if status != 200 {
		t.Fatalf("GET liability: %d %s", status, raw)
	}
	wantFields(t, "liability before any claim", jsonObject(t, raw), liabilityFields, map[string]string{"cap": `"50.00"`,
		"paid_12m": `"50.00"`, "granted_total": `"0.00"`, "remaining": `"50.00"`, "first_incident_at": "null",
		"window_from": `"2025-04-02T10:00:00Z"`, "window_to": `"2026-04-02T10:00:00Z"`, "claims": "0"})

	// 30.00 granted in full (the incident after the payment), set off against March: 40.75 → 10.75.
	c1 := map[string]any{"id": "c-1", "amount": "30.00", "incident_at": "2026-04-02T11:30:00+02:00", "reason": "SMS not delivered for 3 hours"}
	status, raw = e.do("POST", "/v1/accounts/acme/claims", c1, nil)
	if status != 201 {
		t.Fatalf("claim c-1: %d %s", status, raw)
	}
	first := raw
	wantFields(t, "claim c-1", jsonObject(t, raw), claimFields, map[string]string{"id": `"c-1"`, "account": `"acme"`,
		"amount": `"30.00"`, "granted": `"30.00"`, "refused": `"0.00"`, "cap": `"50.00"`, "paid_12m": `"50.00"`,
		"granted_total": `"30.00"`, "remaining": `"20.00"`, "incident_at": `"2026-04-02T09:30:00Z"`,
		"first_incident_at": `"2026-04-02T09:30:00Z"`})
	want(t, "March's outstanding after c-1", e.invoices("account=acme")[0].Outstanding, "10.75")
	if a := e.account("acme"); a.Exposure != "10.750000" {
		t.Errorf("exposure %s after c-1, want 10.750000 (R4)", a.Exposure)
	}

	// The same claim again: 200 and the first answer; other terms under its id: 409.
	status, raw = e.do("POST", "/v1/accounts/acme/claims", c1, nil)
	if status != 200 || string(raw) != string(first) {
		t.Errorf("retry of c-1: %d %s, want 200 %s", status, raw, first)
	}
	c1["amount"] = "31.00"
	status, raw = e.do("POST", "/v1/accounts/acme/claims", c1, nil)
	if code, _ := apiErrorOf(t, raw); status != 409 || code != "conflict" {
		t.Errorf("c-1 with another amount: %d %s, want 409 conflict", status, raw)
	}

	// 25.00 asked, 20.00 remains: granted in part, the rest refused (T&C 8.4). March is paid;
	// 9.25 stays the customer's credit.
	status, raw = e.do("POST", "/v1/accounts/acme/claims", map[string]any{"id": "c-2", "amount": "25.00",
		"incident_at": "2026-04-02T08:00:00Z", "reason": "voice outage"}, nil)
	if status != 201 {
		t.Fatalf("claim c-2: %d %s", status, raw)
	}
	c2 := jsonObject(t, raw)
	wantFields(t, "claim c-2", c2, append(claimFields, "message", "clause"), map[string]string{"granted": `"20.00"`,
		"refused": `"5.00"`, "cap": `"50.00"`, "granted_total": `"50.00"`, "remaining": `"0.00"`, "clause": `"T&C 8.4"`,
		"first_incident_at": `"2026-04-02T09:30:00Z"`})
	for _, w := range []string{"T&C 8.4", "refused 5.00 EUR", "capped at 50.00 EUR", "50.00 EUR granted in total, 0.00 EUR remains"} {
		if !strings.Contains(string(c2["message"]), w) {
			t.Errorf("c-2's message %s does not say %q", c2["message"], w)
		}
	}
	want(t, "March after c-2", e.invoices("account=acme")[0].Status+" "+e.invoices("account=acme")[0].Outstanding, "paid 0.00")
	if a := e.account("acme"); a.Exposure != "-9.250000" {
		t.Errorf("exposure %s after c-2, want -9.250000 (R4: less the customer's credit)", a.Exposure)
	}

	// Nothing remains: 201, granted 0.00, the whole claim refused.
	status, raw = e.do("POST", "/v1/accounts/acme/claims", map[string]any{"id": "c-3", "amount": "10.00",
		"incident_at": "2026-03-20T08:00:00Z", "reason": "late delivery reports"}, nil)
	if status != 201 {
		t.Fatalf("claim c-3: %d %s", status, raw)
	}
	c3 := jsonObject(t, raw)
	wantFields(t, "claim c-3", c3, append(claimFields, "message", "clause"), map[string]string{"granted": `"0.00"`,
		"refused": `"10.00"`, "granted_total": `"50.00"`, "remaining": `"0.00"`, "clause": `"T&C 8.4"`})

	// What is not a claim.
	for _, c := range []struct {
		name, path string
		body       string
		status     int
	}{
		{"amount_zero", "/v1/accounts/acme/claims", `{"id":"x","amount":"0","incident_at":"2026-04-01T00:00:00Z","reason":"r"}`, 400},
		{"amount_three_decimals", "/v1/accounts/acme/claims", `{"id":"x","amount":"1.001","incident_at":"2026-04-01T00:00:00Z","reason":"r"}`, 400},
		{"incident_in_the_future", "/v1/accounts/acme/claims", `{"id":"x","amount":"1.00","incident_at":"2026-04-03T00:00:00Z","reason":"r"}`, 400},
		{"incident_missing", "/v1/accounts/acme/claims", `{"id":"x","amount":"1.00","reason":"r"}`, 400},
		{"reason_empty", "/v1/accounts/acme/claims", `{"id":"x","amount":"1.00","incident_at":"2026-04-01T00:00:00Z","reason":" "}`, 400},
		{"unknown_field", "/v1/accounts/acme/claims", `{"id":"x","amount":"1.00","incident_at":"2026-04-01T00:00:00Z","reason":"r","x":1}`, 400},
		{"unknown_account", "/v1/accounts/nobody/claims", `{"id":"x","amount":"1.00","incident_at":"2026-04-01T00:00:00Z","reason":"r"}`, 404},
	} {
		t.Run("R12_"+c.name, func(t *testing.T) {
			status, raw := e.apiRaw("", "POST", c.path, c.body)
			apiErrorOf(t, raw)
			if status != c.status {
				t.Errorf("%s: %d %s, want %d", c.body, status, raw, c.status)
			}
		})
	}
	if status, raw := e.do("GET", "/v1/accounts/nobody/liability", nil, nil); status != 404 {
		t.Errorf("liability of an unknown account: %d %s, want 404", status, raw)
	}

	// Afterwards, across a restart: the cap fixed by c-1, all of it granted; the claims in order.
	e.restart()
	e.setClock("2026-06-01T00:00:00Z")
	status, raw = e.do("GET", "/v1/accounts/acme/liability", nil, nil)
	if status != 200 {
		t.Fatalf("GET liability: %d %s", status, raw)
	}
	wantFields(t, "liability after the claims", jsonObject(t, raw), liabilityFields, map[string]string{"cap": `"50.00"`,
		"paid_12m": `"50.00"`, "granted_total": `"50.00"`, "remaining": `"0.00"`, "first_incident_at": `"2026-04-02T09:30:00Z"`,
		"window_from": `"2025-04-02T09:30:00Z"`, "window_to": `"2026-04-02T09:30:00Z"`, "claims": "3"})
	var page struct {
		Items []struct{ ID, Granted string }
		Next  string
	}
	if status, raw := e.do("GET", "/v1/accounts/acme/claims?limit=2", nil, &page); status != 200 || len(page.Items) != 2 ||
		page.Items[0].ID != "c-1" || page.Items[1].Granted != "20.00" || page.Next != "c-2" {
		t.Errorf("first page of claims: %d %s", status, raw)
	}
	if status, raw := e.do("GET", "/v1/accounts/acme/claims?limit=2&after=c-2", nil, &page); status != 200 || len(page.Items) != 1 ||
		page.Items[0].ID != "c-3" || page.Next != "" {
		t.Errorf("second page of claims: %d %s", status, raw)
	}
}

// R12 for a prepaid account through the service: its top-ups are what it paid; the credit
// granted stays its credit, its prepaid balance untouched (no invoices to set off against, R9).
func TestClaims_prepaid_account_through_the_service(t *testing.T) {
	e := start(t)
	e.createAccount("pre", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	if status, raw := e.topUp("pre", "t-1", "80.00", "2026-03-05T10:00:00Z"); status != 201 {
		t.Fatalf("top-up: %d %s", status, raw)
	}
	status, raw := e.do("POST", "/v1/accounts/pre/claims", map[string]any{"id": "c-1", "amount": "100.00",
		"incident_at": "2026-03-09T12:00:00Z", "reason": "WhatsApp messages lost"}, nil)
	if status != 201 {
		t.Fatalf("claim: %d %s", status, raw)
	}
	wantFields(t, "prepaid claim", jsonObject(t, raw), append(claimFields, "message", "clause"), map[string]string{
		"granted": `"80.00"`, "refused": `"20.00"`, "cap": `"80.00"`, "remaining": `"0.00"`})
	e.wantPrepaid("pre", "80.000000", "0.000000", "0.000000")
}

// CONTRACT 1, 3.5: claims are filed with the roles that book payments (finance, admin) and read
// by viewers.
func TestClaims_roles(t *testing.T) {
	const admin, finance, viewer = "admin-token-0123456789", "finance-token-0123456789", "viewer-token-0123456789"
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(admin+" admin\n"+finance+" finance\n"+viewer+" viewer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	if status, raw := e.apiRaw(admin, "POST", "/v1/accounts", acmeBody); status != 201 {
		t.Fatalf("create acme: %d %s", status, raw)
	}
	claim := `{"id":"c-1","amount":"10.00","incident_at":"2026-03-01T00:00:00Z","reason":"outage"}`
	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
	}{
		{"viewer_files_claim_403", viewer, "POST", "/v1/accounts/acme/claims", claim, 403},
		{"finance_files_claim_201", finance, "POST", "/v1/accounts/acme/claims", claim, 201},
		{"viewer_reads_liability_200", viewer, "GET", "/v1/accounts/acme/liability", "", 200},
		{"viewer_lists_claims_200", viewer, "GET", "/v1/accounts/acme/claims", "", 200},
		{"no_token_reads_liability_401", "", "GET", "/v1/accounts/acme/liability", "", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, raw := e.apiRaw(c.token, c.method, c.path, c.body); status != c.status {
				t.Errorf("%s %s: %d %s, want %d", c.method, c.path, status, raw, c.status)
			}
		})
	}
}
