package service_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/api"
	"ledger/api/wire"
	"ledger/service"
)

type auditEntry = wire.AuditEntry

type auditPage struct {
	Items []auditEntry `json:"items"`
	Next  string       `json:"next"`
}

func (e *env) auditPage(token, query string) (auditPage, []byte) {
	e.t.Helper()
	status, raw := e.apiRaw(token, "GET", "/v1/audit"+query, "")
	if status != 200 {
		e.t.Fatalf("GET /v1/audit%s: %d %s", query, status, raw)
	}
	var p auditPage
	if err := json.Unmarshal(raw, &p); err != nil {
		e.t.Fatalf("GET /v1/audit%s: %v: %s", query, err, raw)
	}
	return p, raw
}

// CONTRACT 3.10, R14: every write through the API — accepted, retried or refused — is in the
// audit trail in order, with the token's name as actor, its role, the method, path, account and
// how it was answered; reads and authorisations are not; no token appears in it; only admins
// read it.
func TestAPI_audit_trail(t *testing.T) {
	const (
		admin   = "admin-token-0123456789"
		finance = "finance-token-0123456789"
		viewer  = "viewer-token-0123456789"
	)
	path := filepath.Join(t.TempDir(), "tokens")
	tokens := admin + " admin alice\n" + finance + " finance bob\n" + viewer + " viewer\n"
	if err := os.WriteFile(path, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	acme := `{"id":"acme","name":"Acme","type":"postpaid","country":"NL","registered_at":"2026-01-01T00:00:00Z"}`
	steps := []struct {
		token, method, path, body string
		status                    int
	}{
		{admin, "POST", "/v1/accounts", acme, 201},
		{admin, "POST", "/v1/accounts", acme, 200}, // a retry, answered as the first time
		{finance, "PUT", "/v1/accounts/acme/credit-limit", `{"amount":"2500"}`, 200},
		{viewer, "GET", "/v1/accounts/acme", "", 200},                   // a read: not recorded
		{viewer, "POST", "/v1/authorize", `{"account":"acme"}`, 0},      // a question: not recorded
		{viewer, "POST", "/v1/accounts", acme, 403},                     // refused by role
		{finance, "POST", "/v1/accounts/acme/refunds", `{}`, 422},       // refused by a rule (T&C 3.13)
		{"not-a-known-token-at-all", "POST", "/v1/accounts", acme, 401}, // nobody: a failed login, logged
		{admin, "POST", "/v1/clock", `{"now":"2026-04-01T00:00:00Z"}`, 200},
		{finance, "POST", "/v1/accounts", acme, 403},
	}
	for _, s := range steps {
		status, raw := e.apiRaw(s.token, s.method, s.path, s.body)
		if s.status != 0 && status != s.status {
			t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, status, raw, s.status)
		}
	}
	want := []auditEntry{
		{Actor: "alice", Role: "admin", Method: "POST", Path: "/v1/accounts", Account: "acme", Status: 201},
		{Actor: "alice", Role: "admin", Method: "POST", Path: "/v1/accounts", Account: "acme", Status: 200},
		{Actor: "bob", Role: "finance", Method: "PUT", Path: "/v1/accounts/acme/credit-limit", Account: "acme", Status: 200},
		{Actor: "viewer", Role: "viewer", Method: "POST", Path: "/v1/accounts", Status: 403},
		{Actor: "bob", Role: "finance", Method: "POST", Path: "/v1/accounts/acme/refunds", Account: "acme", Status: 422},
		{Actor: "alice", Role: "admin", Method: "POST", Path: "/v1/clock", Status: 200},
		{Actor: "bob", Role: "finance", Method: "POST", Path: "/v1/accounts", Status: 403},
	}
	page, raw := e.auditPage(admin, "")
	if len(page.Items) != len(want) {
		t.Fatalf("audit trail has %d entries, want %d:\n%s", len(page.Items), len(want), raw)
	}
	var prev int64
	for i, got := range page.Items {
		if got.Seq <= prev {
			t.Errorf("entry %d: seq %d after %d: not in order", i, got.Seq, prev)
		}
		prev = got.Seq
		if _, err := time.Parse(time.RFC3339Nano, got.At); err != nil {
			t.Errorf("entry %d: at %q: %v", i, got.At, err)
		}
		got.Seq, got.At = 0, ""
		if got != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got, want[i])
		}
	}
	for _, tok := range []string{admin, finance, viewer, "not-a-known-token"} {
		if strings.Contains(string(raw), tok) {
			t.Errorf("the audit trail holds a token: %s", raw)
		}
	}

	// One account's entries, and paging.
	mine, _ := e.auditPage(admin, "?account=acme")
	if len(mine.Items) != 4 {
		t.Errorf("?account=acme lists %d entries, want 4: %+v", len(mine.Items), mine.Items)
	}
	first, _ := e.auditPage(admin, "?limit=4")
	if len(first.Items) != 4 || first.Next == "" {
		t.Fatalf("first page of 4: %d items, next %q", len(first.Items), first.Next)
	}
	rest, _ := e.auditPage(admin, "?limit=4&after="+first.Next)
	if len(rest.Items) != 3 || rest.Next != "" || rest.Items[0].Seq != page.Items[4].Seq {
		t.Errorf("second page: %+v next %q, want the last 3 entries and no next", rest.Items, rest.Next)
	}

	// Only admins read it; reading it is not a write.
	for _, tok := range []string{finance, viewer} {
		if status, raw := e.apiRaw(tok, "GET", "/v1/audit", ""); status != 403 {
			t.Errorf("GET /v1/audit as a non-admin: %d %s, want 403", status, raw)
		}
	}
	again, _ := e.auditPage(admin, "")
	if len(again.Items) != len(want) {
		t.Errorf("reading the audit trail changed it: %d entries", len(again.Items))
	}
}

// CONTRACT 3.10: the record of a write that commits is written in the same transaction, so it
// outlives a restart with the change; the account of a dispute is the invoice's.
func TestAPI_audit_survives_restart(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.restart()
	p, raw := e.auditPage("", "")
	if len(p.Items) != 1 || p.Items[0].Actor != "loopback" || p.Items[0].Account != "acme" || p.Items[0].Status != 201 {
		t.Fatalf("after a restart the audit trail is %s, want the account's creation by loopback", raw)
	}
}

// CONTRACT 3 roles: every route × every role. A role below the route's answers 403 and nothing
// happens; the route's role and those above it get past the check (whatever the request then
// says of the empty body or the unknown id). The table is the contract's, written out; it must
// name every route the API serves.
func TestAPI_role_matrix(t *testing.T) {
	want := map[string]string{
		"GET /v1/accounts":                   "viewer",
		"GET /v1/accounts/{id}":              "viewer",
		"GET /v1/accounts/{id}/entries":      "viewer",
		"GET /v1/accounts/{id}/prices":       "viewer",
		"GET /v1/accounts/{id}/topups":       "viewer",
		"GET /v1/accounts/{id}/claims":       "viewer",
		"GET /v1/accounts/{id}/liability":    "viewer",
		"GET /v1/invoices":                   "viewer",
		"GET /v1/invoices/{id}":              "viewer",
		"GET /v1/disputes/{id}":              "viewer",
		"GET /v1/credit-notes":               "viewer",
		"GET /v1/credit-notes/{id}":          "viewer",
		"GET /v1/prices":                     "viewer",
		"GET /v1/clock":                      "viewer",
		"GET /v1/info":                       "viewer",
		"POST /v1/authorize":                 "viewer",
		"PATCH /v1/accounts/{id}":            "finance",
		"PUT /v1/accounts/{id}/credit-limit": "finance",
		"PUT /v1/accounts/{id}/prices":       "finance",
		"POST /v1/accounts/{id}/topups":      "finance",
		"POST /v1/accounts/{id}/chargebacks": "finance",
		"POST /v1/accounts/{id}/refunds":     "finance",
		"POST /v1/accounts/{id}/payments":    "finance",
		"POST /v1/accounts/{id}/claims":      "finance",
		"POST /v1/billing-runs":              "finance",
		"POST /v1/invoices/{id}/disputes":    "finance",
		"POST /v1/disputes/{id}/resolve":     "finance",
		"GET /v1/exports/invoices":           "finance",
		"GET /v1/rejected":                   "finance",
		"POST /v1/accounts":                  "admin",
		"POST /v1/accounts/{id}/terminate":   "admin",
		"POST /v1/rejected/replay":           "admin",
		"POST /v1/clock":                     "admin",
		"GET /v1/data-subjects/{id}":         "admin",
		"DELETE /v1/data-subjects/{id}":      "admin",
		"GET /v1/audit":                      "admin",
	}
	srv := &api.Server{}
	srv.Handler()
	served := map[string]bool{}
	for _, r := range srv.Routes() {
		r.Pattern = strings.ReplaceAll(r.Pattern, "{e164}", "{id}")
		served[r.Pattern] = true
		if _, ok := want[r.Pattern]; !ok {
			t.Errorf("the API serves %s, which the role table does not name", r.Pattern)
		}
	}
	for p := range want {
		if !served[p] {
			t.Errorf("the role table names %s, which the API does not serve", p)
		}
	}

	tokens := map[string]string{"viewer": "viewer-token-0123456789", "finance": "finance-token-0123456789", "admin": "admin-token-0123456789"}
	path := filepath.Join(t.TempDir(), "tokens")
	var file strings.Builder
	for role, tok := range tokens {
		file.WriteString(tok + " " + role + "\n")
	}
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	rank := map[string]int{"viewer": 1, "finance": 2, "admin": 3}
	for pattern, least := range want {
		method, route, _ := strings.Cut(pattern, " ")
		url := strings.ReplaceAll(route, "{id}", "nobody")
		body := ""
		if method != "GET" {
			body = "{}"
		}
		for role, tok := range tokens {
			status, raw := e.apiRaw(tok, method, url, body)
			allowed := rank[role] >= rank[least]
			switch {
			case allowed && (status == 401 || status == 403):
				t.Errorf("%s as %s: %d %s, want past the role check (%s may)", pattern, role, status, raw, least)
			case !allowed && status != 403:
				t.Errorf("%s as %s: %d %s, want 403 (only %s and above)", pattern, role, status, raw, least)
			}
		}
	}
}
