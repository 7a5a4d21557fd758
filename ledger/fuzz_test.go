package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ledger/ledger"
)

// FuzzDecodeUsage: no body makes the event decoder panic, and whatever it accepts is an event
// the ledger can keep — an id of at most 128 characters, a valid account, a quantity in range,
// an instant in the window — and decodes again, re-encoded, to the same content.
func FuzzDecodeUsage(f *testing.F) {
	for _, s := range []string{
		`{"id":"e-1","account":"acme","channel":"sms","destination":"+31612345678","quantity":2,"occurred_at":"2026-03-05T10:00:00Z"}`,
		`{"id":"e-2","account":"acme","channel":"voice","destination":"+31612345678","quantity":61,"caller_id":"+31201234567","occurred_at":"2026-03-05T10:00:00.5+01:00"}`,
		`{"id":"e-3","account":"acme","channel":"ott","product":"whatsapp","direction":"inbound","destination":"+4915112345678","quantity":1,"occurred_at":"2026-03-05T10:00:00Z"}`,
		`{"id":"e-4","account":"acme","channel":"professional_services","product":"travel","quantity":90,"occurred_at":"2026-03-05T10:00:00Z"}`,
		`{"id":"e-5","account":"acme","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"0000-01-01T00:00:00+23:59"}`,
		`{"id":"","account":"ACME","channel":"fax","quantity":-1,"occurred_at":"yesterday"}`,
		`{"id":1e400}`, `[]`, `null`, ``, `{"id":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, id, err := ledger.DecodeUsage(raw)
		if !utf8.ValidString(id) && err == nil {
			t.Fatalf("accepted an id that is not UTF-8: %q", id)
		}
		if err != nil {
			return
		}
		switch {
		case e.ID == "" || utf8.RuneCountInString(e.ID) > ledger.MaxEventIDLength:
			t.Fatalf("accepted id %q", e.ID)
		case !ledger.ValidAccountID(e.Account):
			t.Fatalf("accepted account %q", e.Account)
		case e.Quantity < 0 || e.Quantity > ledger.MaxQuantity:
			t.Fatalf("accepted quantity %d", e.Quantity)
		case !ledger.InWindow(e.OccurredAt):
			t.Fatalf("accepted occurred_at %s", e.OccurredAt)
		}
		again, err := json.Marshal(map[string]any{"id": e.ID, "account": e.Account, "channel": e.Channel, "product": e.Product,
			"direction": e.Direction, "destination": e.Destination, "quantity": e.Quantity, "caller_id": e.CallerID,
			"occurred_at": e.OccurredAt.Format(time.RFC3339Nano)})
		if err != nil {
			t.Fatal(err)
		}
		e2, _, err := ledger.DecodeUsage(again)
		if err != nil {
			t.Fatalf("re-encoded %s: %v", again, err)
		}
		if e2.ContentHash() != e.ContentHash() {
			t.Fatalf("re-encoded %s is other content than %s", again, raw)
		}
	})
}

// FuzzParseInstant: an instant is accepted only inside the window, and is then UTC.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2026-03-05T10:00:00Z", "2026-03-05T10:00:00.123456789+02:00", "0000-01-01T00:00:00+23:59",
		"9999-12-31T23:59:59-23:59", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "", "now"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ledger.ParseInstant("at", s)
		if err != nil {
			if !strings.Contains(err.Error(), "at") {
				t.Fatalf("error %v does not name the field", err)
			}
			return
		}
		if !ledger.InWindow(at) || at.Location() != time.UTC {
			t.Fatalf("accepted %q as %s", s, at)
		}
	})
}

// FuzzNewAccount: the API's account body, decoded as the API decodes it, never panics Open,
// and what Open accepts is an account the store and the invoices can hold.
func FuzzNewAccount(f *testing.F) {
	for _, s := range []string{
		`{"id":"acme","name":"Acme","type":"postpaid","country":"NL"}`,
		`{"id":"acme","name":"Acme","type":"prepaid","country":"DE","vat_id":"DE123456789","email":"a@b.de","credit_limit":"10.00","payment_terms_days":30,"indexation":false,"registered_at":"2026-01-01T00:00:00Z"}`,
		`{"id":"acme","name":"Acme\r\nBcc: x","type":"postpaid","country":"XX","email":"a@b.c\r\nBcc: y","credit_limit":"1.001"}`,
		`{"id":"acme","name":"A","type":"postpaid","country":"NL","registered_at":"0000-01-01T00:00:00+23:59"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var n ledger.NewAccount
		if json.Unmarshal(body, &n) != nil {
			return
		}
		a, err := n.Open(now, "fuzz")
		if err != nil {
			return
		}
		switch {
		case !ledger.ValidAccountID(a.ID):
			t.Fatalf("accepted id %q", a.ID)
		case !ledger.KnownCountry(a.Country):
			t.Fatalf("accepted country %q", a.Country)
		case strings.ContainsAny(a.Name+a.Email+a.VATID, "\r\n\x00"):
			t.Fatalf("accepted a line break: %+v", a)
		case !ledger.InWindow(a.RegisteredAt):
			t.Fatalf("accepted registered_at %s", a.RegisteredAt)
		case ledger.CheckLimit("credit_limit", a.CreditLimit) != nil:
			t.Fatalf("accepted credit_limit %s", a.CreditLimit)
		}
	})
}

// FuzzNewTopUp: a top-up body never panics Validate; what it accepts is in the window, not
// after now, and not expired already.
func FuzzNewTopUp(f *testing.F) {
	for _, s := range []string{`{"id":"t","amount":"10.00","method":"card","received_at":"2026-02-01T00:00:00Z"}`,
		`{"id":"t","amount":"10.001"}`, `{"id":"t","amount":"1e9"}`, `{"id":"t","amount":"10","received_at":"2024-01-01T00:00:00Z"}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var n ledger.NewTopUp
		if json.Unmarshal(body, &n) != nil {
			return
		}
		top, err := n.Validate(now)
		if err != nil {
			return
		}
		if _, expires := ledger.LotTimes(top.ReceivedAt); !ledger.InWindow(top.ReceivedAt) || top.ReceivedAt.After(now) || !expires.After(now) || top.Amount <= 0 {
			t.Fatalf("accepted %+v", top)
		}
	})
}

// FuzzParseAmount: an amount of the API (top-ups, payments, claims, chargebacks) is accepted
// only positive, in cents, below the ceiling, and exactly in micro-euros.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"10.00", "0.01", "10.001", "-5", "0", "999999.99", "1000000", "1e9", "100000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ledger.ParseAmount("amount", s)
		if err != nil {
			return
		}
		if m <= 0 || m%10_000 != 0 || m >= ledger.MaxTopUp*1_000_000 {
			t.Fatalf("accepted %q as %d micros", s, m)
		}
	})
}
