package service_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type subjectRecord struct {
	Event, Account, Channel, Prefix, Country, Amount string
	OccurredAt                                       string `json:"occurred_at"`
}

func (e *env) dataSubject(number string) []subjectRecord {
	e.t.Helper()
	var page struct {
		Items []subjectRecord `json:"items"`
	}
	status, raw := e.apiRaw("", "GET", "/v1/data-subjects/"+number, "")
	if status != 200 {
		e.t.Fatalf("GET /v1/data-subjects: %d %s", status, raw)
	}
	if strings.Contains(string(raw), strings.TrimPrefix(number, "+")) {
		e.t.Errorf("the answer holds the number: %s", raw)
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		e.t.Fatal(err)
	}
	return page.Items
}

// R14, CONTRACT 3.6: the number never reaches the database, a parked event, a notice or an
// answer; what billing needs (prefix, country) and a keyed pseudonym are kept; a data subject's
// records are listed and erased on request (audited without the number); after the retention
// period the pseudonyms go and the amounts stay.
func TestPersonalData_R14(t *testing.T) {
	const number = "+31612345678"
	e := start(t)
	key, err := os.Stat(filepath.Join(e.cfg.Data, "pseudonym.key"))
	if err != nil || key.Mode().Perm() != 0o600 {
		t.Fatalf("pseudonym key made at first start: %v, mode %v; want one readable by its owner only", err, key)
	}
	e.createAccount("acme", nil)
	e.publish(nil, sms("pd-1", "acme", number, 1))
	e.publish(nil, sms("pd-2", "later", number, 1)) // parked: unknown_account
	e.publishRaw("usage.voice.acme", "pd-3", []byte(`{"id":"pd-3","account":"acme","channel":"voice","destination":"+99912345678","caller_id":"+31201234567","quantity":60,"occurred_at":"2026-03-10T08:00:00Z"}`))
	e.settle()

	records := e.dataSubject(number)
	if len(records) != 2 || records[0].Event != "pd-1" || records[0].Prefix == "" || records[0].Country != "NL" || records[0].Amount == "" ||
		records[1].Event != "pd-2" {
		t.Fatalf("records under the number = %+v, want the charge with its prefix, country and amount, then the parked event", records)
	}
	for _, p := range e.rejected("") {
		raw, _ := json.Marshal(p)
		for _, n := range []string{"12345678", "1201234567"} {
			if strings.Contains(string(raw), n) {
				t.Errorf("a parked event holds %s: %s", n, raw)
			}
		}
	}
	e.eventually(5e9, func() error {
		if len(e.billingOn("billing.usage.rejected")) < 2 {
			return os.ErrNotExist
		}
		return nil
	})
	for _, m := range e.billingOn("billing.usage.rejected") {
		raw, _ := json.Marshal(m.Body)
		if strings.Contains(string(raw), "12345678") {
			t.Errorf("a notice holds the number: %s", raw)
		}
	}

	// The parked event, replayed once its account exists, is charged under the same pseudonym.
	e.createAccount("later", nil)
	if status, raw := e.apiRaw("", "POST", "/v1/rejected/replay", `{"reason":"unknown_account"}`); status != 200 {
		t.Fatalf("replay: %d %s", status, raw)
	}
	records = e.dataSubject(number)
	if len(records) != 2 || records[1].Event != "pd-2" || records[1].Amount == "" {
		t.Fatalf("after the replay = %+v, want both charged", records)
	}

	// Erasure on request: the pseudonym goes, the charges and amounts stay.
	status, raw := e.apiRaw("", "DELETE", "/v1/data-subjects/"+number, "")
	if status != 200 || !strings.Contains(string(raw), `"erased":2`) {
		t.Fatalf("DELETE: %d %s, want 2 erased", status, raw)
	}
	if left := e.dataSubject(number); len(left) != 0 {
		t.Errorf("after the erasure %+v", left)
	}
	if n := e.countCharges("acme") + e.countCharges("later"); n != 2 {
		t.Errorf("%d charges after the erasure, want the 2 as they were", n)
	}
	audit, rawAudit := e.auditPage("", "")
	looks, erasures := 0, 0
	for _, a := range audit.Items {
		switch {
		case a.Method == "GET" && a.Path == "/v1/data-subjects/{e164}" && a.Status == 200:
			looks++
		case a.Method == "DELETE" && a.Path == "/v1/data-subjects/{e164}" && a.Status == 200:
			erasures++
		}
	}
	if looks != 3 || erasures != 1 || strings.Contains(string(rawAudit), "12345678") {
		t.Errorf("audit trail %s: want the 3 looks at a data subject's records and the erasure, without the number", rawAudit)
	}
	if status, _ := e.apiRaw("", "GET", "/v1/data-subjects/0612345678", ""); status != 400 {
		t.Errorf("a data subject that is not an E.164 number answers %d, want 400", status)
	}

	// Retention: 2160 h after occurred_at (2026-03-10), the pseudonyms go.
	e.publish(nil, sms("pd-4", "acme", "+31687654321", 1))
	e.settle()
	if got := e.dataSubject("+31687654321"); len(got) != 1 {
		t.Fatalf("records of the second number = %+v", got)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/clock", `{"now":"2026-06-09T00:00:00Z"}`); status != 200 {
		t.Fatalf("clock: %d %s", status, raw)
	}
	if got := e.dataSubject("+31687654321"); len(got) != 0 {
		t.Errorf("after the retention period the number still finds %+v", got)
	}

	// Nowhere in the database files.
	e.stop()
	for _, name := range []string{"ledger.db", "ledger.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(e.cfg.Data, name))
		if err != nil {
			continue
		}
		for _, n := range []string{"31612345678", "31687654321", "99912345678", "31201234567"} {
			if bytes.Contains(raw, []byte(n)) {
				t.Errorf("%s holds %s", name, n)
			}
		}
	}
	e.launch()
}
