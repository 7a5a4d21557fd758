package ledger_test

import (
	"strings"
	"testing"

	"ledger/ledger"
)

// R14: a parked event keeps its body without the numbers — the destination and the caller id
// keep their leading digits (a caller id its validity, SST 6.3), the detail loses the number —
// and the pseudonym of the destination; a charged one only the pseudonym.
func TestScrub(t *testing.T) {
	p := ledger.NewPseudonyms([]byte("0123456789abcdef"), 4)
	if p.Kept != ledger.MinKeptDigits {
		t.Fatalf("kept %d digits, want at least %d", p.Kept, ledger.MinKeptDigits)
	}
	if a, b := p.Of("+31612345678"), p.Of("+31612345678"); a != b || len(a) != 32 || a == p.Of("+31612345679") {
		t.Fatalf("pseudonyms %s %s: want one per number, 32 hex", a, b)
	}
	if other := ledger.NewPseudonyms([]byte("another key 0123"), 6); other.Of("+31612345678") == p.Of("+31612345678") {
		t.Fatal("the same pseudonym under another key")
	}

	body := `{"id":"e-1","account":"acme","channel":"voice","destination":"+31612345678","caller_id":"+31201234567","quantity":61,"occurred_at":"2026-03-10T08:00:00Z","note":"call back on 0612345678"}`
	d := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(body)}, Reason: ledger.ReasonNoPrice,
		Detail: "no price for voice outbound to +31612345678 at 2026-03-10T08:00:00Z",
		Event:  ledger.UsageEvent{Destination: "+31612345678", CallerID: "+31201234567"}}
	p.Scrub(&d)
	for _, number := range []string{"31612345678", "31201234567", "0612345678", "12345678"} {
		if strings.Contains(string(d.Data), number) || strings.Contains(d.Detail, number) {
			t.Errorf("%s kept: body %s, detail %q", number, d.Data, d.Detail)
		}
	}
	for _, want := range []string{`"destination":"+316123"`, `"caller_id":"+312012"`, `"id":"e-1"`} {
		if !strings.Contains(string(d.Data), want) {
			t.Errorf("body %s lacks %s", d.Data, want)
		}
	}
	if d.Pseudonym != p.Of("+31612345678") {
		t.Errorf("pseudonym %q, want the destination's", d.Pseudonym)
	}
	e, _, err := ledger.DecodeUsage(d.Data)
	if err != nil || !ledger.ValidE164(e.CallerID) {
		t.Errorf("the kept body decodes to %+v, %v: want an event that rates as the first (a valid caller id)", e, err)
	}

	// What replay needs stays as it came: an account id and an instant with nanoseconds are
	// digits, not an end user's number; a malformed instant is cut like any text.
	exact := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(`{"id":"e-4","account":"acct-123456789","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2026-12-07T03:29:43.184714529Z","note":"0612345678"}`)},
		Reason: ledger.ReasonUnknownAccount, Event: ledger.UsageEvent{Destination: "+31612345678"}}
	p.Scrub(&exact)
	for _, want := range []string{`"account":"acct-123456789"`, `"occurred_at":"2026-12-07T03:29:43.184714529Z"`} {
		if !strings.Contains(string(exact.Data), want) {
			t.Errorf("body %s lacks %s: replay needs it", exact.Data, want)
		}
	}
	if strings.Contains(string(exact.Data), "0612345678") {
		t.Errorf("a number in another field was kept: %s", exact.Data)
	}
	bad := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(`{"id":"e-5","occurred_at":"call 0612345678"}`)}, Reason: ledger.ReasonMalformed}
	p.Scrub(&bad)
	if strings.Contains(string(bad.Data), "0612345678") {
		t.Errorf("a number in a malformed occurred_at was kept: %s", bad.Data)
	}

	invalid := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(`{"id":"e-2","caller_id":"0201234567"}`)}, Reason: ledger.ReasonMalformed}
	p.Scrub(&invalid)
	if !strings.Contains(string(invalid.Data), `"caller_id":"invalid"`) {
		t.Errorf("an invalid caller id became %s, want it still invalid and not kept", invalid.Data)
	}
	unreadable := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(`{"id":"e-3","destination":"+31612345678",`)}, Reason: ledger.ReasonMalformed}
	p.Scrub(&unreadable)
	if strings.Contains(string(unreadable.Data), "12345678") {
		t.Errorf("an unreadable body kept the number: %s", unreadable.Data)
	}
	charged := ledger.Prepared{Delivery: ledger.Delivery{Data: []byte(body)}, Event: ledger.UsageEvent{Destination: "+31612345678"}}
	p.Scrub(&charged)
	if charged.Pseudonym != p.Of("+31612345678") {
		t.Errorf("a charged event's pseudonym %q", charged.Pseudonym)
	}
}

// The pseudonym of every charged event is on the ingestion path (R14).
func BenchmarkPseudonymOf(b *testing.B) {
	p := ledger.NewPseudonyms([]byte("0123456789abcdef"), 6)
	b.ReportAllocs()
	for b.Loop() {
		p.Of("+31612345678")
	}
}

// A parked event's body is scrubbed field by field (R14): the cost of a flood of bad events.
func BenchmarkScrubParked(b *testing.B) {
	p := ledger.NewPseudonyms([]byte("0123456789abcdef"), 6)
	body := []byte(`{"id":"e-1","account":"acme","channel":"voice","destination":"+31612345678","caller_id":"+31201234567","quantity":61,"occurred_at":"2026-03-10T08:00:00.123456789Z","note":"call 0612345678"}`)
	e, _, _ := ledger.DecodeUsage(body)
	b.ReportAllocs()
	for b.Loop() {
		d := ledger.Prepared{Delivery: ledger.Delivery{Data: body}, Event: e, Reason: ledger.ReasonNoPrice, Detail: "no price for voice to +31612345678"}
		p.Scrub(&d)
	}
}
