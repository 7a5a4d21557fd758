package service_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// CONTRACT 3 (issue 15): every list honours limit and after. Each list route is walked a page
// of 1 at a time, following next, and must give the same items in the same order as one page
// of 1000; limit is refused outside 1…1000.
func TestAPI_every_list_pages(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.createAccount("beta", nil)
	e.createAccount("pre", map[string]any{"type": "prepaid"})
	for _, id := range []string{"t-1", "t-2", "t-3"} {
		if status, raw := e.apiRaw("", "POST", "/v1/accounts/pre/topups", `{"id":"`+id+`","amount":"10.00","method":"card"}`); status != 201 {
			t.Fatalf("top-up: %d %s", status, raw)
		}
	}
	for _, id := range []string{"p-1", "p-2"} {
		if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/claims", `{"id":"`+id+`","amount":"1.00","incident_at":"2026-03-01T00:00:00Z","reason":"x"}`); status != 201 {
			t.Fatalf("claim: %d %s", status, raw)
		}
	}
	e.publish(nil, sms("l-1", "acme", "+31612345678", 1), sms("l-2", "beta", "+31612345678", 1), sms("l-3", "acme", "+31612345678", 2))
	e.publish(nil, sms("l-4", "ghost", "+31612345678", 1), sms("l-5", "ghost", "+31612345678", 2))
	e.settle()
	if status, raw := e.apiRaw("", "POST", "/v1/clock", `{"now":"2026-04-02T00:00:00Z"}`); status != 200 { // March's invoices
		t.Fatalf("clock: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/invoices/INV-2026-000001/disputes", `{"id":"d-1","amount":"0.01","reason":"x"}`); status != 201 {
		t.Fatalf("dispute: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/disputes/d-1/resolve", `{"outcome":"accepted"}`); status != 200 {
		t.Fatalf("resolve: %d %s", status, raw)
	}
	lists := map[string]int{ // path → the fewest items it must hold here
		"/v1/accounts":                   3,
		"/v1/accounts/acme/entries":      2,
		"/v1/accounts/pre/topups":        3,
		"/v1/accounts/acme/claims":       2,
		"/v1/invoices":                   2,
		"/v1/credit-notes":               1,
		"/v1/rejected":                   2,
		"/v1/prices":                     3,
		"/v1/audit":                      8,
		"/v1/data-subjects/+31612345678": 3,
	}
	// R5 "credit notes likewise": April's bookkeeping CSV lists the credit note issued in it,
	// signed negative, naming the invoice it corrects.
	status, raw := e.apiRaw("", "GET", "/v1/exports/invoices?period=2026-04&format=csv", "")
	if status != 200 || !strings.Contains(string(raw), ",-0.01,0.00,issued,credit_note,INV-2026-000001") {
		t.Errorf("April's CSV: %d\n%s\nwant the credit note of -0.01 correcting INV-2026-000001", status, raw)
	}
	for path, fewest := range lists {
		t.Run(strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			all := listPage(t, e, path, url.Values{"limit": {"1000"}})
			if len(all.Items) < fewest || all.Next != "" {
				t.Fatalf("one page of 1000: %d items, next %q; want at least %d and no next", len(all.Items), all.Next, fewest)
			}
			var walked []json.RawMessage
			q := url.Values{"limit": {"1"}}
			for pages := 0; ; pages++ {
				if pages > len(all.Items)+1 {
					t.Fatalf("more pages than items: next does not move on")
				}
				p := listPage(t, e, path, q)
				if len(p.Items) > 1 {
					t.Fatalf("a page of limit 1 holds %d items", len(p.Items))
				}
				walked = append(walked, p.Items...)
				if p.Next == "" {
					break
				}
				q.Set("after", p.Next)
			}
			if len(walked) != len(all.Items) {
				t.Fatalf("walked %d items, one page holds %d", len(walked), len(all.Items))
			}
			for i := range walked {
				if string(walked[i]) != string(all.Items[i]) {
					t.Errorf("item %d differs: %s, want %s", i, walked[i], all.Items[i])
				}
			}
			for _, bad := range []string{"0", "1001", "x"} {
				if status, _ := e.apiRaw("", "GET", path+"?limit="+bad, ""); status != 400 {
					t.Errorf("limit=%s answers %d, want 400", bad, status)
				}
			}
		})
	}
}

type listAnswer struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next"`
}

func listPage(t *testing.T, e *env, path string, q url.Values) listAnswer {
	t.Helper()
	status, raw := e.apiRaw("", "GET", path+"?"+q.Encode(), "")
	if status != 200 {
		t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), status, raw)
	}
	var a listAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
	return a
}
