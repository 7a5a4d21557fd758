package service_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/service"
)

// apiRaw sends a raw body (which may be broken JSON) with an optional token and returns the
// status and the answer.
func (e *env) apiRaw(token, method, path, body string) (int, []byte) {
	e.t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return e.apiRawAuth(auth, method, path, body)
}

// apiRawAuth is apiRaw with the whole Authorization header ("" for none).
func (e *env) apiRawAuth(authorization, method, path, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+e.svc.HTTPAddr+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// apiErrorOf checks that raw is exactly the error shape of CONTRACT 3,
// {"error":{"code","message"}}, and returns the code and the message.
func apiErrorOf(t *testing.T, raw []byte) (code, message string) {
	t.Helper()
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(raw, &outer); err != nil {
		t.Fatalf("error answer is not a JSON object: %v: %s", err, raw)
	}
	if len(outer) != 1 || outer["error"] == nil {
		t.Fatalf("error answer has keys other than \"error\": %s", raw)
	}
	var inner struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(outer["error"], &inner); err != nil {
		t.Fatalf("\"error\" is not an object with code and message: %v: %s", err, raw)
	}
	if inner.Code == nil || *inner.Code == "" || inner.Message == nil || *inner.Message == "" {
		t.Fatalf("\"error\" lacks a code or a message: %s", raw)
	}
	return *inner.Code, *inner.Message
}

const acmeBody = `{"id":"acme","name":"Acme B.V.","type":"postpaid","country":"NL","registered_at":"2026-03-01T00:00:00+01:00"}`

// CONTRACT 3: every error answers {"error":{"code","message"}} with the status of its kind.
func TestAPI_errors_shape_and_status(t *testing.T) {
	e := start(t)
	if status, raw := e.apiRaw("", "POST", "/v1/accounts", acmeBody); status != 201 {
		t.Fatalf("create acme: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/clock", `{"now":"2026-03-11T00:00:00Z"}`); status != 200 {
		t.Fatalf("set the clock: %d %s", status, raw)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		messageHas               string
	}{
		{"400_bad_JSON", "POST", "/v1/accounts", `{"id":"x",`, 400, "invalid", ""},
		{"400_not_an_object", "POST", "/v1/accounts", `["x"]`, 400, "invalid", ""},
		{"400_empty_body", "POST", "/v1/accounts", ``, 400, "invalid", ""},
		{"400_trailing_data", "POST", "/v1/accounts", `{"id":"t1","name":"T","type":"postpaid","country":"NL"} {}`, 400, "invalid", ""},
		{"400_unknown_field", "POST", "/v1/accounts", `{"id":"x1","name":"X","type":"postpaid","country":"NL","colour":"red"}`, 400, "invalid", "colour"},
		{"400_bad_account_id", "POST", "/v1/accounts", `{"id":"Not Valid","name":"X","type":"postpaid","country":"NL"}`, 400, "invalid", "Not Valid"},
		{"400_bad_type", "POST", "/v1/accounts", `{"id":"x2","name":"X","type":"credit","country":"NL"}`, 400, "invalid", "credit"},
		{"400_bad_limit", "GET", "/v1/accounts?limit=0", ``, 400, "invalid", "limit"},
		{"400_bad_cursor", "GET", "/v1/accounts?after=abc", ``, 400, "invalid", "after"},
		{"400_bad_entries_from", "GET", "/v1/accounts/acme/entries?from=yesterday", ``, 400, "invalid", "from"},
		{"400_bad_reason", "GET", "/v1/rejected?reason=bogus", ``, 400, "invalid", "bogus"},
		{"400_bad_clock", "POST", "/v1/clock", `{"now":"tomorrow"}`, 400, "invalid", "now"},
		{"404_unknown_account", "GET", "/v1/accounts/nobody", ``, 404, "not_found", "nobody"},
		{"404_unknown_account_entries", "GET", "/v1/accounts/nobody/entries", ``, 404, "not_found", "nobody"},
		{"404_unknown_route", "GET", "/v1/nowhere", ``, 404, "not_found", ""},
		{"404_unknown_route_root", "GET", "/", ``, 404, "not_found", ""},
		{"409_same_account_id_other_terms", "POST", "/v1/accounts", strings.Replace(acmeBody, "Acme B.V.", "Acme Holding", 1), 409, "conflict", "acme"},
		{"409_test_clock_backwards_after_set_once", "POST", "/v1/clock", `{"now":"2026-03-10T23:59:59Z"}`, 409, "conflict", "forward"},
		{"422_R5_EU_account_without_VAT_id", "POST", "/v1/accounts", `{"id":"paris","name":"Paris SA","type":"postpaid","country":"FR"}`, 422, "refused", "R5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.apiRaw("", tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, status, tc.status, raw)
			}
			code, message := apiErrorOf(t, raw)
			if code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
			if !strings.Contains(message, tc.messageHas) {
				t.Errorf("message %q does not name %q", message, tc.messageHas)
			}
		})
	}
	// Nothing that was refused was created.
	for _, id := range []string{"x1", "x2", "t1", "paris"} {
		if status, _ := e.apiRaw("", "GET", "/v1/accounts/"+id, ""); status != 404 {
			t.Errorf("refused account %s exists (GET %d)", id, status)
		}
	}
	if got := e.account("acme"); got.ID != "acme" {
		t.Errorf("acme after the conflict: %+v", got)
	}
}

// CONTRACT 3: writes are idempotent on their id: the same account twice is created once.
func TestAPI_create_account_idempotent(t *testing.T) {
	e := start(t)
	status, first := e.apiRaw("", "POST", "/v1/accounts", acmeBody)
	if status != 201 {
		t.Fatalf("first POST: %d %s, want 201", status, first)
	}
	status, second := e.apiRaw("", "POST", "/v1/accounts", acmeBody)
	if status != 200 {
		t.Fatalf("second POST: %d %s, want 200", status, second)
	}
	var a, b map[string]any
	json.Unmarshal(first, &a)
	json.Unmarshal(second, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the retry answers another account:\n%s\n%s", first, second)
	}
	if a["credit_limit"] != "5000.00" || a["payment_terms_days"] != 14.0 || a["indexation"] != true || a["status"] != "active" {
		t.Errorf("defaults of the terms: %s", first)
	}
	// R13 (T&C 10.1, 10.2): registered 2026-03-01 Amsterdam, seen 2026-03-10.
	if a["renewal_date"] != "2027-03-01" || a["notice_deadline"] != "2026-12-01" || a["registered_at"] != "2026-02-28T23:00:00Z" {
		t.Errorf("renewal %v notice %v registered %v, want 2027-03-01, 2026-12-01, 2026-02-28T23:00:00Z",
			a["renewal_date"], a["notice_deadline"], a["registered_at"])
	}
	var l struct{ Items []map[string]any }
	e.do("GET", "/v1/accounts", nil, &l)
	if len(l.Items) != 1 {
		t.Errorf("%d accounts listed, want 1", len(l.Items))
	}
}

// CONTRACT 3: a client retrying POST /v1/accounts without registered_at (which defaults to
// now) must get 200, not 409: the retry is the same request. With the wall clock "now" differs
// on every request.
func TestAPI_create_account_idempotent_without_registered_at(t *testing.T) {
	e := start(t, func(c *service.Config) { c.TestClock = false })
	body := `{"id":"retry","name":"Retry B.V.","type":"postpaid","country":"NL"}`
	if status, raw := e.apiRaw("", "POST", "/v1/accounts", body); status != 201 {
		t.Fatalf("first POST: %d %s, want 201", status, raw)
	}
	time.Sleep(10 * time.Millisecond) // a client's retry comes a little later
	if status, raw := e.apiRaw("", "POST", "/v1/accounts", body); status != 200 {
		t.Errorf("retried POST of the same body: %d %s, want 200", status, raw)
	}
}

// CONTRACT 1, 3: with --api-tokens every request carries a token; viewers read, only admins
// open accounts; health and metrics answer without one.
func TestAPI_tokens_and_roles(t *testing.T) {
	const (
		admin   = "admin-token-0123456789"
		finance = "finance-token-0123456789"
		viewer  = "viewer-token-0123456789"
	)
	path := filepath.Join(t.TempDir(), "tokens")
	tokens := "# TOKEN ROLE\n" + admin + " admin\n" + finance + " finance\n\n" + viewer + " viewer\n"
	if err := os.WriteFile(path, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	newAccount := func(id string) string {
		return `{"id":"` + id + `","name":"N","type":"postpaid","country":"NL","registered_at":"2026-01-01T00:00:00Z"}`
	}
	bearer := func(token string) string { return "Bearer " + token }
	tests := []struct {
		name, authorization, method, path, body string
		status                                  int
		code                                    string
	}{
		{"no_token_401", "", "GET", "/v1/accounts", "", 401, "unauthorized"},
		{"unknown_token_401", bearer("not-a-known-token-at-all"), "GET", "/v1/accounts", "", 401, "unauthorized"},
		{"token_without_Bearer_401", admin, "GET", "/v1/accounts", "", 401, "unauthorized"},
		{"admin_creates_account_201", bearer(admin), "POST", "/v1/accounts", newAccount("by-admin"), 201, ""},
		{"viewer_reads_200", bearer(viewer), "GET", "/v1/accounts", "", 200, ""},
		{"viewer_reads_account_200", bearer(viewer), "GET", "/v1/accounts/by-admin", "", 200, ""},
		{"viewer_reads_clock_200", bearer(viewer), "GET", "/v1/clock", "", 200, ""},
		{"finance_reads_200", bearer(finance), "GET", "/v1/accounts", "", 200, ""},
		{"viewer_creates_account_403", bearer(viewer), "POST", "/v1/accounts", newAccount("by-viewer"), 403, "forbidden"},
		{"finance_creates_account_403_admin_only", bearer(finance), "POST", "/v1/accounts", newAccount("by-finance"), 403, "forbidden"},
		{"viewer_sets_clock_403", bearer(viewer), "POST", "/v1/clock", `{"now":"2026-04-01T00:00:00Z"}`, 403, "forbidden"},
		{"viewer_replays_403", bearer(viewer), "POST", "/v1/rejected/replay", `{}`, 403, "forbidden"},
		{"no_token_create_401", "", "POST", "/v1/accounts", newAccount("by-nobody"), 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.apiRawAuth(tc.authorization, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
			}
			if tc.code != "" {
				if code, _ := apiErrorOf(t, raw); code != tc.code {
					t.Errorf("code %q, want %q", code, tc.code)
				}
			}
		})
	}
	for _, id := range []string{"by-viewer", "by-finance", "by-nobody"} {
		if status, _ := e.apiRaw(admin, "GET", "/v1/accounts/"+id, ""); status != 404 {
			t.Errorf("account %s was created by a request without the admin role (GET %d)", id, status)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		t.Run("open_without_token"+strings.ReplaceAll(p, "/", "_"), func(t *testing.T) {
			if status, raw := e.apiRaw("", "GET", p, ""); status != 200 {
				t.Errorf("GET %s without a token: %d %s, want 200", p, status, raw)
			}
		})
	}
	// CONTRACT 3: /metrics takes a token of any role when tokens are configured.
	if status, raw := e.apiRaw("", "GET", "/metrics", ""); status != 401 {
		t.Errorf("GET /metrics without a token: %d %s, want 401", status, raw)
	}
	if status, raw := e.apiRaw("not-a-known-token-at-all", "GET", "/metrics", ""); status != 401 {
		t.Errorf("GET /metrics with an unknown token: %d %s, want 401", status, raw)
	}
	status, raw := e.apiRaw(viewer, "GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("GET /metrics as viewer: %d %s, want 200", status, raw)
	}
	// Every refusal for want of a valid token above is counted (the no-token and unknown-token
	// cases, the token without Bearer, the create without one, the two /metrics ones).
	if !strings.Contains(string(raw), "ledger_api_auth_failures_total 6") {
		t.Errorf("ledger_api_auth_failures_total is not 6:\n%s", grepLines(string(raw), "ledger_api_auth_failures_total"))
	}
	if strings.Contains(string(raw), viewer) || strings.Contains(string(raw), "not-a-known-token") {
		t.Error("a token appears in /metrics")
	}
}

// CONTRACT 1: --metrics-open lets /metrics answer without a token even with --api-tokens.
func TestAPI_metrics_open(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("admin-token-0123456789 admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens, c.MetricsOpen = path, true })
	if status, raw := e.apiRaw("", "GET", "/metrics", ""); status != 200 {
		t.Errorf("GET /metrics without a token and --metrics-open: %d %s, want 200", status, raw)
	}
	if status, _ := e.apiRaw("", "GET", "/v1/accounts", ""); status != 401 {
		t.Errorf("--metrics-open opened the API too: GET /v1/accounts without a token answers %d", status)
	}
}

// CONTRACT 3: lists answer {"items","next"}, oldest first; ?after=next gives the following page
// until next is "".
func TestAPI_accounts_pagination(t *testing.T) {
	e := start(t)
	want := []string{"a-first", "c-second", "b-third", "e-fourth", "d-fifth"} // creation order, not id order
	for _, id := range want {
		e.createAccount(id, nil)
	}
	var got []string
	pages := 0
	after := ""
	for {
		path := "/v1/accounts?limit=2"
		if after != "" {
			path += "&after=" + after
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next *string `json:"next"`
		}
		if status, raw := e.do("GET", path, nil, &page); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, raw)
		}
		if page.Next == nil {
			t.Fatalf("GET %s: no \"next\" in the answer", path)
		}
		if len(page.Items) > 2 {
			t.Fatalf("GET %s: %d items, more than the limit 2", path, len(page.Items))
		}
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		pages++
		if *page.Next == "" {
			break
		}
		if *page.Next == after || pages > 10 {
			t.Fatalf("pagination does not advance: next %q after %q", *page.Next, after)
		}
		after = *page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("accounts over all pages %v, want %v (oldest first, no repeats)", got, want)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3 (2 + 2 + 1)", pages)
	}
}

type apiEntry struct {
	Kind          string `json:"kind"`
	At            string `json:"at"`
	LedgerAccount string `json:"ledger_account"`
	Amount        string `json:"amount"`
	Events        int    `json:"events"`
}

func (e *env) apiEntries(path string) []apiEntry {
	e.t.Helper()
	var l struct {
		Items []apiEntry `json:"items"`
		Next  string     `json:"next"`
	}
	if status, raw := e.do("GET", path, nil, &l); status != 200 {
		e.t.Fatalf("GET %s: %d %s", path, status, raw)
	}
	return l.Items
}

// CONTRACT 3.1: an account's ledger entries, bounded by ?from and ?to.
func TestAPI_entries_after_a_charge(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, sms("s1", "acme", "+31612345678", 2)) // 2 × 0.075 = 0.150000, booked 2026-03-10 09:00Z
	e.waitUnbilled("acme", "0.150000")

	entries := e.apiEntries("/v1/accounts/acme/entries")
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1: %+v", len(entries), entries)
	}
	if got := entries[0]; got.Amount != "0.150000" || got.LedgerAccount != "customer:acme:unbilled" || got.Kind != "usage" || got.Events != 1 {
		t.Errorf("entry %+v, want usage 0.150000 on customer:acme:unbilled for 1 event", got)
	}

	// A second charge two days later.
	if status, raw := e.do("POST", "/v1/clock", map[string]string{"now": "2026-03-12T09:00:00Z"}, nil); status != 200 {
		t.Fatalf("move the clock: %d %s", status, raw)
	}
	e.publish(nil, sms("s2", "acme", "+31612345678", 1)) // 0.075000
	e.waitUnbilled("acme", "0.225000")

	tests := []struct {
		name, query string
		want        []string
	}{
		{"all", "", []string{"0.150000", "0.075000"}},
		{"from_and_to_around_the_first", "?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z", []string{"0.150000"}},
		{"from_after_the_first", "?from=2026-03-11T00:00:00Z", []string{"0.075000"}},
		{"to_before_the_second", "?to=2026-03-11T00:00:00Z", []string{"0.150000"}},
		{"before_both", "?to=2026-03-10T00:00:00Z", nil},
		{"after_both", "?from=2026-03-13T00:00:00Z", nil},
		{"offsets_accepted", "?from=2026-03-11T01:00:00%2B01:00", []string{"0.075000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, en := range e.apiEntries("/v1/accounts/acme/entries" + tc.query) {
				got = append(got, en.Amount)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("amounts %v, want %v", got, tc.want)
			}
		})
	}
}

// CONTRACT 3.8: the prices and surcharges in force at a time.
func TestAPI_prices_at(t *testing.T) {
	e := start(t)
	type row struct {
		Channel, Product, Direction, Prefix, Country string
		UnitPrice                                    string `json:"unit_price"`
		AppliesTo                                    string `json:"applies_to"`
		ValidFrom                                    string `json:"valid_from"`
	}
	var answer struct {
		Items      []row `json:"items"`
		Surcharges []row `json:"surcharges"`
	}
	if status, raw := e.do("GET", "/v1/prices?at=2026-03-10T00:00:00Z", nil, &answer); status != 200 {
		t.Fatalf("GET /v1/prices: %d %s", status, raw)
	}
	found := false
	for _, p := range answer.Items {
		if p.Channel == "sms" && p.Prefix == "31" && p.Direction == "outbound" {
			found = true
			if p.UnitPrice != "0.075" || p.Country != "NL" || p.ValidFrom != "2026-01-01" {
				t.Errorf("sms 31 row %+v, want unit_price 0.075, NL, valid from 2026-01-01", p)
			}
		}
	}
	if !found {
		t.Errorf("no sms 31 row in %+v", answer.Items)
	}
	if len(answer.Items) != 8 {
		t.Errorf("%d prices, want the 8 rows of the test tariffs", len(answer.Items))
	}
	surcharges := map[string]string{}
	for _, s := range answer.Surcharges {
		surcharges[s.Channel+"/"+s.Prefix+"/"+s.AppliesTo] = s.UnitPrice
	}
	want := map[string]string{"sms/33/all": "0.01", "voice//invalid_caller_id": "0.05"}
	if fmt.Sprint(surcharges) != fmt.Sprint(want) {
		t.Errorf("surcharges %v, want %v", surcharges, want)
	}

	t.Run("R1_nothing_in_force_before_valid_from", func(t *testing.T) {
		var before struct {
			Items      []row `json:"items"`
			Surcharges []row `json:"surcharges"`
		}
		e.do("GET", "/v1/prices?at=2025-12-31T22:59:59Z", nil, &before) // 23:59:59 Amsterdam
		if len(before.Items) != 0 || len(before.Surcharges) != 0 {
			t.Errorf("prices in force before 2026-01-01 Amsterdam: %+v", before)
		}
	})
	t.Run("400_bad_at", func(t *testing.T) {
		status, raw := e.apiRaw("", "GET", "/v1/prices?at=soon", "")
		if status != 400 {
			t.Errorf("status %d, want 400: %s", status, raw)
		}
		apiErrorOf(t, raw)
	})
}

// CONTRACT 3.9: the test clock is read and set through the API, only forward once set, and kept
// across a restart.
func TestAPI_test_clock(t *testing.T) {
	e := start(t)
	now := func() string {
		t.Helper()
		var c struct {
			Now string `json:"now"`
		}
		if status, raw := e.do("GET", "/v1/clock", nil, &c); status != 200 {
			t.Fatalf("GET /v1/clock: %d %s", status, raw)
		}
		return c.Now
	}
	if got := now(); got != testStart {
		t.Errorf("clock starts at %s, want %s", got, testStart)
	}
	var set struct {
		Now string `json:"now"`
	}
	if status, raw := e.do("POST", "/v1/clock", map[string]string{"now": "2026-04-01T00:00:00Z"}, &set); status != 200 || set.Now != "2026-04-01T00:00:00Z" {
		t.Fatalf("POST /v1/clock: %d %s, want 200 with now 2026-04-01T00:00:00Z", status, raw)
	}
	if got := now(); got != "2026-04-01T00:00:00Z" {
		t.Errorf("clock reads %s after the POST, want 2026-04-01T00:00:00Z", got)
	}
	e.do("POST", "/v1/clock", map[string]string{"now": "2026-04-02T12:30:00+02:00"}, nil)
	if got := now(); got != "2026-04-02T10:30:00Z" {
		t.Errorf("clock reads %s, want 2026-04-02T10:30:00Z (UTC)", got)
	}

	e.restart()
	if got := now(); got != "2026-04-02T10:30:00Z" {
		t.Errorf("after a restart the clock reads %s, want 2026-04-02T10:30:00Z", got)
	}
	status, raw := e.do("POST", "/v1/clock", map[string]string{"now": "2026-04-01T00:00:00Z"}, nil)
	if status != 409 {
		t.Errorf("backwards after a restart: %d %s, want 409", status, raw)
	}
}

func TestAPI_test_clock_404_without_test_clock(t *testing.T) {
	e := start(t, func(c *service.Config) { c.TestClock = false })
	for _, req := range []struct{ method, body string }{{"GET", ""}, {"POST", `{"now":"2027-04-01T00:00:00Z"}`}} {
		status, raw := e.apiRaw("", req.method, "/v1/clock", req.body)
		if status != 404 {
			t.Errorf("%s /v1/clock without --test-clock: %d %s, want 404", req.method, status, raw)
			continue
		}
		if code, _ := apiErrorOf(t, raw); code != "not_found" {
			t.Errorf("code %q, want not_found", code)
		}
	}
}

// CONTRACT 6: the ingestion metrics.
func TestAPI_metrics(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	series := `ledger_usage_events_total{channel="sms",outcome="charged"}`
	if got := e.metric(series); got != "0" {
		t.Errorf("%s = %q before any event, want 0", series, got)
	}
	e.publish(nil,
		sms("m1", "acme", "+31612345678", 1),
		sms("m2", "acme", "+31612345678", 2),
		sms("m3", "acme", "+33612345678", 1),
		sms("m4", "nobody", "+31612345678", 1), // rejected: unknown account
	)
	e.publish(func(event) string { return "m1-again" }, sms("m1", "acme", "+31612345678", 1)) // duplicate
	e.settle()
	e.waitUnbilled("acme", "0.303000") // 0.075 + 0.15 + 0.068 + 0.01
	e.eventually(10*time.Second, func() error {
		want := map[string]string{
			series: "3",
			`ledger_usage_events_total{channel="sms",outcome="duplicate"}`: "1",
			`ledger_usage_events_total{channel="sms",outcome="rejected"}`:  "1",
		}
		for s, v := range want {
			if got := e.metric(s); got != v {
				return fmt.Errorf("%s = %q, want %s", s, got, v)
			}
		}
		return nil
	})
	_, raw := e.do("GET", "/metrics", nil, nil)
	text := string(raw)
	for _, want := range []string{
		"# TYPE ledger_usage_events_total counter",
		"# TYPE ledger_ingest_pending_messages gauge",
		"\nledger_ingest_pending_messages ",
		"# TYPE ledger_batch_duration_seconds histogram",
		"\nledger_batch_duration_seconds_count ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(text, "ledger_"))
		}
	}
	if got := e.metric("ledger_batch_duration_seconds_count"); got == "" || got == "0" {
		t.Errorf("ledger_batch_duration_seconds_count = %q after batches were committed", got)
	}
}
