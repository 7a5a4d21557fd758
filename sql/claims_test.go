package sql_test

import (
	"strings"
	"testing"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
	"ledger/sql/storetest"
)

// claim files a claim of amount for an incident, at now.
func (f *fixture) claim(account, id, amount, incident, now string) (billing.ClaimView, bool, error) {
	f.t.Helper()
	return fileClaim(f.ctx, f.store, account, ledger.Claim{ID: id, Amount: eur(amount), IncidentAt: at(incident),
		Reason: "messages not delivered"}, "test", at(now))
}

func (f *fixture) mustClaim(account, id, amount, incident, now string) billing.ClaimView {
	f.t.Helper()
	v, created, err := f.claim(account, id, amount, incident, now)
	if err != nil || !created {
		f.t.Fatalf("claim %s: created %v, %v", id, created, err)
	}
	return v
}

func (f *fixture) liability(account, now string) billing.LiabilityView {
	f.t.Helper()
	v, err := f.store.Liability(f.ctx, account, at(now))
	if err != nil {
		f.t.Fatalf("liability of %s: %v", account, err)
	}
	return v
}

// wantClaim checks what a claim was granted and the liability it left (EUR).
func wantClaim(t *testing.T, v billing.ClaimView, granted, cap, total, remaining string) {
	t.Helper()
	if v.Granted != eur(granted) || v.Liability.Cap != eur(cap) || v.Liability.Granted != eur(total) || v.Liability.Remaining() != eur(remaining) {
		t.Errorf("claim %s of %s: granted %s, cap %s, granted total %s, remaining %s; want %s, %s, %s, %s", v.ID, v.Amount, v.Granted,
			v.Liability.Cap, v.Liability.Granted, v.Liability.Remaining(), granted, cap, total, remaining)
	}
	if refusal := v.Refusal(); (v.Granted < v.Amount) != (refusal != nil && ledger.ErrorCode(refusal) == ledger.CodeRefused &&
		strings.Contains(refusal.Error(), "T&C 8.4")) {
		t.Errorf("claim %s of %s granted %s: refusal %v", v.ID, v.Amount, v.Granted, refusal)
	}
}

// claimCredits returns what claim transactions credited the customer, from its journal entries.
func (f *fixture) claimCredits(account string) money.Micros {
	f.t.Helper()
	entries, err := f.store.Entries(f.ctx, account, at("2000-01-01T00:00:00Z"), at("2100-01-01T00:00:00Z"), 0, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	var credited money.Micros
	for _, e := range entries {
		if e.Kind == ledger.KindClaim && e.LedgerAccount == ledger.CustomerCredit(account) {
			credited -= e.Amount
		}
	}
	return credited
}

// setOffs returns the set-off applications of an account's credit, oldest first (EUR).
func (f *fixture) setOffs(account string) []string {
	f.t.Helper()
	entries, err := f.store.Entries(f.ctx, account, at("2000-01-01T00:00:00Z"), at("2100-01-01T00:00:00Z"), 0, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Kind == ledger.KindSetOff && e.LedgerAccount == ledger.CustomerCredit(account) {
			out = append(out, money.FormatInvoice(e.Amount.Decimal()))
		}
	}
	return out
}

// R12 (T&C 8.4) through the store: the cap is what the customer paid in the 12 months before
// the first claim's incident — 10:00 UTC on 4 May 2027 (12:00 summer time), looking back to
// 12:00 summer time on 4 May 2026 — at most €50,000. Each case books its money in time order and
// then a claim of 60,000.00 for that incident on 1 June 2027, which is granted the cap.
func TestClaims_R12_cap_window(t *testing.T) {
	const incident, filed = "2027-05-04T10:00:00Z", "2027-06-01T00:00:00Z"
	type paidStep struct{ kind, id, amount, at, topUp string } // kind: pay, topup, chargeback
	for _, c := range []struct {
		name, typ, registered string
		paid                  []paidStep
		paid12m, cap          string
	}{
		{name: "R12_payment_exactly_12_months_before_counts", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2026-05-04T10:00:00Z", ""}}, paid12m: "100.00", cap: "100.00"},
		{name: "R12_payment_a_second_before_the_window_does_not_count", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2026-05-04T09:59:59Z", ""}}, paid12m: "0.00", cap: "0.00"},
		{name: "R12_payment_12_months_and_one_day_before_does_not_count", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2026-05-03T10:00:00Z", ""}}, paid12m: "0.00", cap: "0.00"},
		{name: "R12_payment_a_second_before_the_incident_counts", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2027-05-04T09:59:59Z", ""}}, paid12m: "100.00", cap: "100.00"},
		{name: "R12_payment_at_the_incident_does_not_count", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2027-05-04T10:00:00Z", ""}}, paid12m: "0.00", cap: "0.00"},
		{name: "R12_payment_after_the_incident_does_not_count", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "100.00", "2027-05-20T10:00:00Z", ""}}, paid12m: "0.00", cap: "0.00"},
		{name: "R12_payments_in_and_out_of_the_window", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid: []paidStep{{"pay", "p1", "300.00", "2026-03-01T10:00:00Z", ""}, {"pay", "p2", "120.50", "2026-08-01T10:00:00Z", ""},
				{"pay", "p3", "79.50", "2027-01-15T10:00:00Z", ""}, {"pay", "p4", "1000.00", "2027-05-05T10:00:00Z", ""}},
			paid12m: "200.00", cap: "200.00"},
		{name: "R12_top_ups_count", typ: "prepaid", registered: "2026-08-01T00:00:00Z",
			paid:    []paidStep{{"topup", "t1", "200.00", "2026-09-01T10:00:00Z", ""}, {"topup", "t2", "50.00", "2027-02-01T10:00:00Z", ""}},
			paid12m: "250.00", cap: "250.00"},
		{name: "R12_top_up_exactly_12_months_before_counts_a_second_earlier_does_not", typ: "prepaid", registered: "2026-04-01T00:00:00Z",
			paid:    []paidStep{{"topup", "t1", "7.00", "2026-05-04T09:59:59Z", ""}, {"topup", "t2", "30.00", "2026-05-04T10:00:00Z", ""}},
			paid12m: "30.00", cap: "30.00"},
		{name: "R12_chargebacks_reduce_what_was_paid", typ: "prepaid", registered: "2026-08-01T00:00:00Z",
			paid: []paidStep{{"topup", "t1", "500.00", "2026-09-01T10:00:00Z", ""}, {"topup", "t2", "100.00", "2026-10-01T10:00:00Z", ""},
				{"chargeback", "cb1", "120.00", "2026-11-01T10:00:00Z", "t1"}},
			paid12m: "480.00", cap: "480.00"},
		{name: "R12_a_chargeback_after_the_incident_still_reverses_its_top_up", typ: "prepaid", registered: "2026-08-01T00:00:00Z",
			paid:    []paidStep{{"topup", "t1", "500.00", "2026-09-01T10:00:00Z", ""}, {"chargeback", "cb1", "200.00", "2027-05-10T10:00:00Z", "t1"}},
			paid12m: "300.00", cap: "300.00"},
		{name: "R12_a_chargeback_of_a_top_up_before_the_window_does_not_reduce_it", typ: "prepaid", registered: "2026-03-01T00:00:00Z",
			paid: []paidStep{{"topup", "t1", "500.00", "2026-03-02T10:00:00Z", ""}, {"topup", "t2", "300.00", "2026-06-01T10:00:00Z", ""},
				{"chargeback", "cb1", "100.00", "2026-07-01T10:00:00Z", "t1"}},
			paid12m: "300.00", cap: "300.00"},
		{name: "R12_cap_at_most_50000", typ: "postpaid", registered: "2026-01-01T00:00:00Z",
			paid:    []paidStep{{"pay", "p1", "40000.00", "2026-06-01T10:00:00Z", ""}, {"pay", "p2", "40000.00", "2027-01-01T10:00:00Z", ""}},
			paid12m: "80000.00", cap: "50000.00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.account("acme", c.typ, c.registered)
			for _, m := range c.paid {
				switch m.kind {
				case "pay":
					f.pay("acme", m.id, m.amount, m.at, "", m.at)
				case "topup":
					f.mustTopUp("acme", m.id, m.amount, m.at, m.at)
				case "chargeback":
					if _, _, err := f.chargeback("acme", ledger.NewChargeback{ID: m.id, TopUpID: m.topUp, Amount: m.amount, At: m.at}, at(m.at)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Before any claim the liability shows the 12 months before now; here, before the
			// incident's date, the same window.
			if v := f.liability("acme", incident); v.Paid12m != eur(c.paid12m) || v.Cap != eur(c.cap) || !v.FirstIncident.IsZero() || v.Claims != 0 {
				t.Errorf("before the claim: paid %s, cap %s, first incident %s, %d claims; want %s, %s, none", v.Paid12m, v.Cap, v.FirstIncident,
					v.Claims, c.paid12m, c.cap)
			}
			v := f.mustClaim("acme", "c1", "60000.00", incident, filed)
			wantClaim(t, v, c.cap, c.cap, c.cap, "0.00")
			if v.Liability.Paid12m != eur(c.paid12m) || !v.Liability.FirstIncident.Equal(at(incident)) {
				t.Errorf("paid in the window %s, first incident %s; want %s, %s", v.Liability.Paid12m, v.Liability.FirstIncident, c.paid12m, incident)
			}
			l := f.liability("acme", "2027-09-01T00:00:00Z")
			from, to := ledger.LiabilityWindow(at(incident))
			if l.Cap != eur(c.cap) || l.Paid12m != eur(c.paid12m) || l.Granted != eur(c.cap) || l.Remaining != 0 ||
				!l.FirstIncident.Equal(at(incident)) || !l.From.Equal(from) || !l.To.Equal(to) || l.Claims != 1 {
				t.Errorf("liability after the claim %+v; want cap %s, paid %s, all granted, window [%s, %s)", l, c.cap, c.paid12m, from, to)
			}
			if got := f.claimCredits("acme"); got != eur(c.cap) {
				t.Errorf("claim credits %s, want %s", got, c.cap)
			}
		})
	}
}

// R12: several claims share one cap, fixed by the first claim filed. The first claim (incident
// 1 June 2026) fixes the window from 1 June 2025: 1000.00 + 2000.00 paid, not the 500.00 of
// January 2025. Later money does not raise the cap, not even a payment booked later but received
// inside the window; a later claim about an earlier incident does not move the window back.
func TestClaims_R12_several_claims_share_the_cap(t *testing.T) {
	f := newFixture(t)
	f.account("acme", "postpaid", "2025-01-01T00:00:00Z")
	f.pay("acme", "p0", "500.00", "2025-01-10T10:00:00Z", "", "2025-01-10T10:00:00Z")
	f.pay("acme", "p1", "2000.00", "2026-02-01T10:00:00Z", "", "2026-02-01T10:00:00Z")
	f.pay("acme", "p2", "1000.00", "2026-03-01T10:00:00Z", "", "2026-03-01T10:00:00Z")

	c1 := f.mustClaim("acme", "c1", "1000.00", "2026-06-01T10:00:00Z", "2026-06-10T10:00:00Z")
	wantClaim(t, c1, "1000.00", "3000.00", "1000.00", "2000.00")
	if c1.TransactionID == 0 || c1.Refusal() != nil {
		t.Errorf("c1: transaction %d, refusal %v; want a credit and no refusal", c1.TransactionID, c1.Refusal())
	}

	f.pay("acme", "p3", "40000.00", "2026-07-01T10:00:00Z", "", "2026-07-01T10:00:00Z")
	f.pay("acme", "p4", "700.00", "2026-05-01T10:00:00Z", "", "2026-07-02T10:00:00Z") // received in the window, booked after c1

	c2 := f.mustClaim("acme", "c2", "2500.00", "2026-09-01T10:00:00Z", "2026-09-05T10:00:00Z")
	wantClaim(t, c2, "2000.00", "3000.00", "3000.00", "0.00")
	msg := c2.Refusal().Error()
	for _, want := range []string{"T&C 8.4", "claim of 2500.00 EUR granted 2000.00 EUR, refused 500.00 EUR", "capped at 3000.00 EUR",
		"first incident on 2026-06-01", "3000.00 EUR granted in total, 0.00 EUR remains"} {
		if !strings.Contains(msg, want) {
			t.Errorf("c2's refusal %q does not say %q", msg, want)
		}
	}

	// Nothing remains: a claim about an earlier incident, whose own window would hold the
	// 500.00 of January 2025, is refused in full and recorded.
	c3 := f.mustClaim("acme", "c3", "100.00", "2025-12-01T10:00:00Z", "2026-09-06T10:00:00Z")
	wantClaim(t, c3, "0.00", "3000.00", "3000.00", "0.00")
	if c3.TransactionID != 0 || !c3.Liability.FirstIncident.Equal(at("2026-06-01T10:00:00Z")) {
		t.Errorf("c3: transaction %d, first incident %s; want none, 2026-06-01T10:00:00Z", c3.TransactionID, c3.Liability.FirstIncident)
	}

	// The same claim again is answered as it was, booking nothing; other terms under its id
	// are a conflict.
	expense := f.balance(ledger.ExpenseLiabilityClaims)
	again, created, err := f.claim("acme", "c2", "2500.00", "2026-09-01T10:00:00Z", "2026-09-07T10:00:00Z")
	if err != nil || created || again.Granted != c2.Granted || again.Liability != c2.Liability || again.TransactionID != c2.TransactionID {
		t.Errorf("retry of c2: %+v, created %v, %v; want the first answer %+v", again, created, err, c2)
	}
	for name, retry := range map[string]ledger.Claim{
		"amount":   {ID: "c2", Amount: eur("2400.00"), IncidentAt: at("2026-09-01T10:00:00Z"), Reason: "messages not delivered"},
		"incident": {ID: "c2", Amount: eur("2500.00"), IncidentAt: at("2026-09-02T10:00:00Z"), Reason: "messages not delivered"},
		"reason":   {ID: "c2", Amount: eur("2500.00"), IncidentAt: at("2026-09-01T10:00:00Z"), Reason: "outage"},
	} {
		if _, _, err := fileClaim(f.ctx, f.store, "acme", retry, "test", at("2026-09-07T10:00:00Z")); ledger.ErrorCode(err) != ledger.CodeConflict {
			t.Errorf("c2 again with another %s: %v, want a conflict", name, err)
		}
	}
	f.account("beta", "postpaid", "2025-01-01T00:00:00Z")
	if _, _, err := f.claim("beta", "c2", "2500.00", "2026-09-01T10:00:00Z", "2026-09-07T10:00:00Z"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("c2 again for another account: %v, want a conflict", err)
	}
	if b := f.balance(ledger.ExpenseLiabilityClaims); b != expense || b != eur("3000.00") || f.claimCredits("acme") != eur("3000.00") {
		t.Errorf("granted in the journal: expense %s (was %s), acme credited %s; want 3000.00", b, expense, f.claimCredits("acme"))
	}

	// The liability survives a restart as it was.
	f.reopen()
	l := f.liability("acme", "2026-12-01T00:00:00Z")
	if l.Cap != eur("3000.00") || l.Paid12m != eur("3000.00") || l.Granted != eur("3000.00") || l.Remaining != 0 ||
		!l.FirstIncident.Equal(at("2026-06-01T10:00:00Z")) || l.Claims != 3 {
		t.Errorf("liability %+v", l)
	}
	list, err := f.store.Claims(f.ctx, "acme", "", 2)
	if err != nil || len(list) != 2 || list[0].ID != "c1" || list[1].ID != "c2" || list[1].Liability.Granted != eur("3000.00") {
		t.Fatalf("first page of claims %+v, %v", list, err)
	}
	if list, err = f.store.Claims(f.ctx, "acme", "c2", 2); err != nil || len(list) != 1 || list[0].ID != "c3" {
		t.Errorf("second page of claims %+v, %v", list, err)
	}
	if _, err := f.store.Claims(f.ctx, "acme", "nope", 2); ledger.ErrorCode(err) != ledger.CodeInvalid {
		t.Errorf("a cursor naming no claim: %v, want invalid", err)
	}
}

// R12: with nothing paid in the window the cap is 0: the claim is refused in full, recorded,
// and it fixes the window all the same; money paid later does not open it.
func TestClaims_R12_nothing_paid_nothing_granted(t *testing.T) {
	f := newFixture(t)
	f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	v := f.mustClaim("acme", "c1", "100.00", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z")
	wantClaim(t, v, "0.00", "0.00", "0.00", "0.00")
	if v.TransactionID != 0 || v.Refused() != eur("100.00") {
		t.Errorf("claim %+v: want no transaction, 100.00 refused", v)
	}
	f.pay("acme", "p1", "500.00", "2026-02-01T10:00:00Z", "", "2026-03-03T10:00:00Z")
	v = f.mustClaim("acme", "c2", "100.00", "2026-03-03T10:00:00Z", "2026-03-04T10:00:00Z")
	wantClaim(t, v, "0.00", "0.00", "0.00", "0.00")
	if b := f.balance(ledger.ExpenseLiabilityClaims); b != 0 {
		t.Errorf("expense %s, want nothing", b)
	}
}

// What is not a claim is refused before anything is recorded: an invalid claim (400), one about
// an incident in the future, one of an unknown account (404).
func TestClaims_R12_invalid_claims_change_nothing(t *testing.T) {
	f := newFixture(t)
	f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	f.pay("acme", "p1", "500.00", "2026-02-01T10:00:00Z", "", "2026-02-01T10:00:00Z")
	now := at("2026-03-01T10:00:00Z")
	for _, c := range []struct {
		name    string
		account string
		claim   ledger.Claim
		code    ledger.Code
	}{
		{"R12_amount_zero", "acme", ledger.Claim{ID: "c1", Amount: 0, IncidentAt: at("2026-02-10T10:00:00Z"), Reason: "x"}, ledger.CodeInvalid},
		{"R12_amount_negative", "acme", ledger.Claim{ID: "c1", Amount: -eur("1"), IncidentAt: at("2026-02-10T10:00:00Z"), Reason: "x"}, ledger.CodeInvalid},
		{"R12_incident_in_the_future", "acme", ledger.Claim{ID: "c1", Amount: eur("1"), IncidentAt: now.Add(time.Second), Reason: "x"}, ledger.CodeInvalid},
		{"R12_incident_missing", "acme", ledger.Claim{ID: "c1", Amount: eur("1"), Reason: "x"}, ledger.CodeInvalid},
		{"R12_reason_empty", "acme", ledger.Claim{ID: "c1", Amount: eur("1"), IncidentAt: at("2026-02-10T10:00:00Z"), Reason: "  "}, ledger.CodeInvalid},
		{"R12_reason_too_long", "acme", ledger.Claim{ID: "c1", Amount: eur("1"), IncidentAt: at("2026-02-10T10:00:00Z"),
			Reason: strings.Repeat("x", ledger.MaxClaimReasonLength+1)}, ledger.CodeInvalid},
		{"R12_id_empty", "acme", ledger.Claim{ID: "", Amount: eur("1"), IncidentAt: at("2026-02-10T10:00:00Z"), Reason: "x"}, ledger.CodeInvalid},
		{"R12_unknown_account", "nobody", ledger.Claim{ID: "c1", Amount: eur("1"), IncidentAt: at("2026-02-10T10:00:00Z"), Reason: "x"}, ledger.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v, _, err := fileClaim(f.ctx, f.store, c.account, c.claim, "test", now); ledger.ErrorCode(err) != c.code {
				t.Errorf("%+v: %+v, %v; want %s", c.claim, v, err, c.code)
			}
		})
	}
	if l := f.liability("acme", "2026-03-01T10:00:00Z"); l.Claims != 0 || !l.FirstIncident.IsZero() || l.Cap != eur("500.00") {
		t.Errorf("after refused requests: %+v; want no claim, the cap of the 12 months before now", l)
	}
	if _, err := f.store.Liability(f.ctx, "nobody", now); ledger.ErrorCode(err) != ledger.CodeNotFound {
		t.Errorf("liability of an unknown account: %v, want not found", err)
	}
	if _, err := f.store.Claims(f.ctx, "nobody", "", 10); ledger.ErrorCode(err) != ledger.CodeNotFound {
		t.Errorf("claims of an unknown account: %v, want not found", err)
	}
}

// R12 + R8 (T&C 3.10): a granted claim is a credit set off at once against the oldest open
// invoice, each application its own set_off transaction; what the open invoices cannot take
// stays the customer's credit and is set off against the next invoice when it is issued.
// Exposure (R4) follows: the credit lowers it, the set-off moves it onto the invoice.
func TestClaims_R8_granted_credit_set_off_against_open_invoices(t *testing.T) {
	f := newBillingFixture(t)
	march := f.marchInvoice() // 75.00 + 15.75 VAT = 90.75, issued 1 April, due 15 April
	f.pay("acme", "p1", "50.00", "2026-04-10T10:00:00Z", march, "2026-04-10T10:00:00Z")
	f.wantInvoice(f.invoice(march), "75.00", "15.75", "90.75", "40.75", "open")

	// Cap: the 50.00 paid. 30.00 granted, set off against March: 40.75 → 10.75.
	c1 := f.mustClaim("acme", "c1", "30.00", "2026-04-11T10:00:00Z", "2026-04-12T10:00:00Z")
	wantClaim(t, c1, "30.00", "50.00", "30.00", "20.00")
	f.wantInvoice(f.invoice(march), "75.00", "15.75", "90.75", "10.75", "open")
	if got := f.setOffs("acme"); strings.Join(got, " ") != "30.00" {
		t.Errorf("set-offs %v, want one of 30.00", got)
	}
	if c, _ := f.book.Get("acme"); c.Exposure != eur("10.75") {
		t.Errorf("exposure %s, want 10.75 (R4: the invoice's outstanding)", c.Exposure)
	}

	// 15.00 granted: 10.75 settles March (paid), 4.25 stays the customer's credit.
	c2 := f.mustClaim("acme", "c2", "15.00", "2026-04-11T10:00:00Z", "2026-04-14T10:00:00Z")
	wantClaim(t, c2, "15.00", "50.00", "45.00", "5.00")
	f.wantInvoice(f.invoice(march), "75.00", "15.75", "90.75", "0.00", "paid")
	if got := f.setOffs("acme"); strings.Join(got, " ") != "30.00 10.75" {
		t.Errorf("set-offs %v, want 30.00 then 10.75", got)
	}
	if b := f.balance(ledger.CustomerCredit("acme")); b != -eur("4.25") {
		t.Errorf("credit %s, want 4.25 owed to the customer", b)
	}
	if c, _ := f.book.Get("acme"); c.Exposure != -eur("4.25") {
		t.Errorf("exposure %s, want -4.25 (R4: less the customer's credit)", c.Exposure)
	}
	if got := f.notices("billing.invoice.paid", "acme"); len(got) != 1 || got[0].Body["invoice_id"] != march {
		t.Errorf("paid notices %+v, want one for %s", got, march)
	}

	// April: 100 parts, 7.50 + 1.58 VAT = 9.08, issued 1 May; the 4.25 is set off: 4.83 left.
	f.sms("acme", 100, "2026-04-20T10:00:00Z", "2026-04-20T10:00:01Z")
	f.runDue("2026-04-30T22:00:00Z")
	list := f.invoices("acme")
	if len(list) != 2 {
		t.Fatalf("%d invoices, want March and April", len(list))
	}
	f.wantInvoice(f.invoice(list[1].Number), "7.50", "1.58", "9.08", "4.83", "open")
	if got := f.setOffs("acme"); strings.Join(got, " ") != "30.00 10.75 4.25" {
		t.Errorf("set-offs %v, want 30.00, 10.75, then 4.25 at the April invoice", got)
	}
	if b := f.balance(ledger.CustomerCredit("acme")); b != 0 {
		t.Errorf("credit %s after the April invoice, want all set off", b)
	}
	if got := f.claimCredits("acme"); got != eur("45.00") {
		t.Errorf("claims credited %s, want 45.00", got)
	}
}

// R12 for a prepaid account: its top-ups are what it paid. With no invoices to set off against
// and no exposure (R9), the granted credit stays what the provider owes it — not a lot, so it
// neither expires nor pays for traffic — and its prepaid balance is untouched.
func TestClaims_R12_prepaid_account_keeps_the_credit(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-03-01T00:00:00Z")
	f.mustTopUp("pre", "t1", "100.00", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z")
	f.runDue("2026-03-02T10:00:00Z")
	f.want("pre", "100.00", "0.00", "0.00")
	v := f.mustClaim("pre", "c1", "40.00", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")
	wantClaim(t, v, "40.00", "100.00", "40.00", "60.00")
	f.want("pre", "100.00", "0.00", "0.00")
	if b := f.balance(ledger.CustomerCredit("pre")); b != -eur("40.00") {
		t.Errorf("credit %s, want 40.00 owed to the customer", b)
	}
	if c, _ := f.book.Get("pre"); c.Exposure != 0 {
		t.Errorf("exposure %s, want 0: prepaid accounts have none (R9)", c.Exposure)
	}
	if got := f.setOffs("pre"); len(got) != 0 {
		t.Errorf("set-offs %v, want none", got)
	}
	f.reopen()
	if c, _ := f.book.Get("pre"); c.Exposure != 0 {
		t.Errorf("exposure %s after a restart, want 0", c.Exposure)
	}
}

// Invariant 5 and the claims' credits are checked over the whole database: a liability whose
// granted total is not its claims', a claim whose credit is not what it was granted, a window
// fixed by another claim than the first — each is reported, and all hold again once undone.
func TestClaims_invariant_5_is_checked(t *testing.T) {
	f := newFixture(t)
	f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	f.pay("acme", "p1", "500.00", "2026-02-01T10:00:00Z", "", "2026-02-01T10:00:00Z")
	f.mustClaim("acme", "c1", "100.00", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z")
	f.mustClaim("acme", "c2", "100.00", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z")
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Fatal(err)
	}
	db, err := storetest.OpenRaw(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		name, breaks, undoes, want string
	}{
		{"granted_total_not_the_claims", `UPDATE liabilities SET granted_micros = 150000000`, `UPDATE liabilities SET granted_micros = 200000000`,
			"invariant 5"},
		{"granted_not_credited", `UPDATE claims SET granted_micros = 90000000 WHERE id = 'c2'`, `UPDATE claims SET granted_micros = 100000000 WHERE id = 'c2'`,
			"claim c2: granted 90000000"},
		{"window_fixed_by_a_later_claim", `UPDATE liabilities SET first_claim_id = 'c2'`, `UPDATE liabilities SET first_claim_id = 'c1'`,
			"first claim c2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.Exec(c.breaks); err != nil {
				t.Fatal(err)
			}
			if err := f.store.CheckInvariants(f.ctx); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("invariants after %s: %v, want a violation saying %q", c.breaks, err, c.want)
			}
			if _, err := db.Exec(c.undoes); err != nil {
				t.Fatal(err)
			}
			if err := f.store.CheckInvariants(f.ctx); err != nil {
				t.Errorf("invariants after %s: %v", c.undoes, err)
			}
		})
	}
	// The schema refuses a cap above €50,000 and a granted total above the cap outright.
	for _, q := range []string{`UPDATE liabilities SET paid_12m_micros = 60000000000, cap_micros = 60000000000`,
		`UPDATE liabilities SET granted_micros = 600000000`} {
		if _, err := db.Exec(q); !storetest.IsCheckViolation(err) {
			t.Errorf("%s: %v, want a CHECK constraint failure", q, err)
		}
	}
}

// R12 outlives the agreement: a terminated account may claim, and the credit is set off against
// the invoice termination made due at once (R13, R8).
func TestClaims_R12_terminated_account_may_claim(t *testing.T) {
	f := newBillingFixture(t)
	march := f.marchInvoice() // 90.75, due 15 April
	f.pay("acme", "p1", "50.00", "2026-04-10T10:00:00Z", march, "2026-04-10T10:00:00Z")
	if err := terminate(f.ctx, f.store, "acme", at("2026-04-11T10:00:00Z"), "test", at("2026-04-11T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	f.wantInvoice(f.invoice(march), "75.00", "15.75", "90.75", "40.75", "open") // due at once (T&C 10.7), overdue the next day
	v := f.mustClaim("acme", "c1", "30.00", "2026-04-10T12:00:00Z", "2026-04-12T10:00:00Z")
	wantClaim(t, v, "30.00", "50.00", "30.00", "20.00")
	f.wantInvoice(f.invoice(march), "75.00", "15.75", "90.75", "10.75", "overdue")
	if got := f.setOffs("acme"); strings.Join(got, " ") != "30.00" {
		t.Errorf("set-offs %v, want one of 30.00", got)
	}
	if status, _ := f.status("acme"); status != ledger.Closed {
		t.Errorf("status %s, want closed: a claim does not reopen the account", status)
	}
}
