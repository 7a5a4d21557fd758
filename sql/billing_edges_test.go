package sql_test

// Edge cases of invoicing that a review found broken; each test failed before its fix.

import (
	"strings"
	"sync"
	"testing"

	"ledger/billing"
	"ledger/ledger"
)

// R7 + R6: a dispute of an invoice that holds only interest and collection costs (no VAT, category
// E) holds back and credits the disputed amount without VAT (it once took the invoice's 21 %).
func TestBilling_R7_dispute_of_interest_and_costs_holds_back_no_VAT(t *testing.T) {
	f := newBillingFixture(t)
	march := f.marchInvoice() // March: 75.00 + 15.75 VAT = 90.75, due 15 April
	f.pay("acme", "pay-1", "90.75", "2026-04-26T10:00:00Z", march, "2026-04-26T10:00:00Z")
	f.runDue("2026-05-01T00:00:00Z")
	// Interest 16–25 April on 90.75: 90.75 × 0.1015 × 10 / 365 = 0.2524 → 0.25; costs 40.00; no VAT.
	late := f.invoices("acme")[1]
	f.wantInvoice(late, "40.25", "0.00", "40.25", "40.25", "open")
	// The customer disputes 10.00 of the costs within the term. Nothing on this invoice bears VAT,
	// so 10.00 is held back, and an accepted dispute credits 10.00: outstanding 40.25 − 10.00 = 30.25.
	d, _, err := openDispute(f.ctx, f.store, late.Number, billing.NewDispute{ID: "d-1", Amount: eur("10"), Reason: "costs",
		At: at("2026-05-05T10:00:00Z")}, at("2026-05-05T10:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if v := f.invoice(late.Number); d.Amount != eur("10") || v.Disputed != eur("10") {
		t.Errorf("dispute of %s holds back %s, want 10.00", d.Amount, v.Disputed)
	}
	if _, err := resolveDispute(f.ctx, f.store, "d-1", "accepted", "test", at("2026-05-06T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	notes, err := f.store.CreditNotes(f.ctx, "acme", "", 10)
	if err != nil || len(notes) != 1 {
		t.Fatalf("credit notes %d, %v", len(notes), err)
	}
	if !notes[0].Total.Equal(eur("10").Decimal()) || !notes[0].Tax.IsZero() {
		t.Errorf("credit note total %s VAT %s, want 10.00 and 0.00", notes[0].Total, notes[0].Tax)
	}
	if v := f.invoice(late.Number); v.Outstanding != eur("30.25") {
		t.Errorf("outstanding %s after the credit note, want 30.25", v.Outstanding)
	}
	// VAT owed to the tax office: only March's 15.75.
	if b := f.balance(ledger.LiabilityVAT); b != -eur("15.75") {
		t.Errorf("VAT liability %s, want -15.75", b)
	}
}

// Idempotency (CONTRACT 3: writes are idempotent on their id): the same payment delivered twice at
// once is recorded once and both are answered (the id is looked up under the writer's lock; it
// once was looked up before it, and the second insert failed on the primary key).
func TestBilling_payment_retried_concurrently_is_booked_once(t *testing.T) {
	f := newBillingFixture(t)
	f.marchInvoice()
	for round := 0; round < 20; round++ {
		id := "pay-" + string(rune('a'+round))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, _, errs[i] = addPayment(f.ctx, f.store, "acme", billing.NewPayment{ID: id, Amount: eur("1.00"),
					ReceivedAt: at("2026-04-10T10:00:00Z"), SEPA: true}, "test", at("2026-04-10T10:00:00Z"))
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: retry %d of payment %s: %v", round, i, id, err)
			}
		}
	}
}

// R8 (T&C 3.10): the customer's credit is set off against open invoices automatically, also when
// a rejected dispute makes the held-back amount due at once; else the invoice would go overdue
// (and bear interest and costs) while the provider holds the customer's money.
func TestBilling_R8_rejected_dispute_set_off_against_credit(t *testing.T) {
	f := newBillingFixture(t)
	inv := f.marchInvoice() // 90.75, due 15 April
	if _, _, err := openDispute(f.ctx, f.store, inv, billing.NewDispute{ID: "d-1", Amount: eur("30.25"), Reason: "too many",
		At: at("2026-04-14T10:00:00Z")}, at("2026-04-14T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	// 100.00 paid: 60.50 settles the undisputed part, 39.50 is the customer's credit.
	p := f.pay("acme", "pay-1", "100.00", "2026-04-14T11:00:00Z", "", "2026-04-14T11:00:00Z")
	if p.Credit != eur("39.50") {
		t.Fatalf("credit %s, want 39.50", p.Credit)
	}
	if _, err := resolveDispute(f.ctx, f.store, "d-1", "rejected", "test", at("2026-04-20T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	// The 30.25 is due at once; the 39.50 credit covers it: outstanding 0.00, credit 39.50 − 30.25 = 9.25.
	f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "0.00", "paid")
	if b := f.balance(ledger.CustomerCredit("acme")); b != -eur("9.25") {
		t.Errorf("customer credit %s after the rejection, want -9.25", b)
	}
}

// R6: interest accrues on the overdue outstanding amount. A payment recorded after a run charged
// interest, but received (received_at) before, lowers the interest owed: the next invoice gives
// the excess back.
func TestBilling_R6_interest_given_back_for_a_payment_booked_late(t *testing.T) {
	f := newBillingFixture(t)
	march := f.marchInvoice() // 90.75, due 15 April
	f.runDue("2026-05-01T00:00:00Z")
	// Interest 16–30 April on 90.75: 90.75 × 0.1015 × 15 / 365 = 0.3786 → 0.38; costs 40.00.
	f.wantInvoice(f.invoices("acme")[1], "40.38", "0.00", "40.38", "40.38", "open")
	// The bank statement of 5 May shows 90.75 received on 20 April.
	f.pay("acme", "pay-1", "90.75", "2026-04-20T10:00:00Z", march, "2026-05-05T10:00:00Z")
	f.runDue("2026-06-01T00:00:00Z")
	// Owed: 16–19 April, 90.75 × 0.1015 × 4 / 365 = 0.1009 → 0.10. Charged: 0.38, and nothing
	// gives back the 0.28.
	var charged = eur("0")
	for _, v := range f.invoices("acme") {
		for _, l := range v.Lines {
			if l.Concerns == march && (l.Kind == "interest" || l.Kind == "credit") {
				charged += eur(l.Amount.String())
			}
		}
	}
	notes, _ := f.store.CreditNotes(f.ctx, "acme", "", 10)
	for _, n := range notes {
		charged -= eur(n.Total.String())
	}
	if charged != eur("0.10") {
		t.Errorf("interest on %s charged net of corrections %s, want 0.10 (paid on 20 April)", march, charged)
	}
}

// R7: the disputed amount is not overdue: OverdueTotal (ledger_receivables_overdue_eur and the
// LedgerReceivablesOverdue alert) leaves an open dispute out.
func TestBilling_R7_overdue_total_leaves_out_what_is_disputed(t *testing.T) {
	f := newBillingFixture(t)
	inv := f.marchInvoice() // 90.75, due 15 April
	if _, _, err := openDispute(f.ctx, f.store, inv, billing.NewDispute{ID: "d-1", Amount: eur("30.25"), Reason: "too many",
		At: at("2026-04-14T10:00:00Z")}, at("2026-04-14T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	f.runDue("2026-04-16T10:00:00Z") // the undisputed 60.50 is overdue; the disputed 30.25 is not
	got, err := f.store.OverdueTotal(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != eur("60.50") {
		t.Errorf("overdue total %s, want 60.50 (90.75 less the disputed 30.25)", got)
	}
}

// R7: a customer may dispute the whole invoice in parts, and the credit notes of the parts add up
// to the invoice: a part's VAT is that of the amount disputed so far less that before it.
func TestBilling_R7_disputes_in_parts_add_up_to_the_total(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.sms("acme", 2, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z")
	f.runDue("2026-04-01T00:00:00Z")
	inv := f.invoices("acme")[0]
	// 2 × 0.075 = 0.15; VAT 0.0315 → 0.03; total 0.18.
	f.wantInvoice(inv, "0.15", "0.03", "0.18", "0.18", "open")
	// 0.04 disputed: 0.03 net, 0.01 VAT; then the other 0.14: 0.12 net, 0.02 VAT (0.12 × 0.21 =
	// 0.0252 on its own would be 0.03 and the parts 0.19).
	for _, d := range []billing.NewDispute{{ID: "d-1", Amount: eur("0.04"), Reason: "a", At: at("2026-04-10T10:00:00Z")},
		{ID: "d-2", Amount: eur("0.14"), Reason: "b", At: at("2026-04-10T10:00:00Z")}} {
		if _, _, err := openDispute(f.ctx, f.store, inv.Number, d, at("2026-04-10T10:00:00Z")); err != nil {
			t.Errorf("dispute %s of %s: %v", d.ID, d.Amount, err)
		}
	}
	if v := f.invoice(inv.Number); v.Disputed != eur("0.18") {
		t.Errorf("disputed %s, want the whole 0.18", v.Disputed)
	}
	for _, id := range []string{"d-1", "d-2"} {
		if _, err := resolveDispute(f.ctx, f.store, id, "accepted", "test", at("2026-04-11T10:00:00Z")); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := f.store.CreditNotes(f.ctx, "acme", "", 10)
	if err != nil || len(notes) != 2 {
		t.Fatalf("%d credit notes, %v", len(notes), err)
	}
	var got []string
	for _, n := range notes {
		got = append(got, n.Net.StringFixed(2)+"+"+n.Tax.StringFixed(2)+"="+n.Total.StringFixed(2))
	}
	if strings.Join(got, " ") != "0.03+0.01=0.04 0.12+0.02=0.14" {
		t.Errorf("credit notes %s", strings.Join(got, " "))
	}
	f.wantInvoice(f.invoice(inv.Number), "0.15", "0.03", "0.18", "0.00", "credited")
	// The credit notes' VAT gives back exactly what the invoice charged.
	if b := f.balance(ledger.LiabilityVAT); b != 0 {
		t.Errorf("VAT liability %s after crediting everything, want 0", b)
	}
}

// R2: a call of 0 seconds is not charged. Its usage line of 0.00 makes no invoice (it once made a
// 0.00 invoice, "credited", whose posting had no entries).
func TestBilling_R2_zero_second_call_issues_no_invoice(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	body := `{"id":"call-1","account":"acme","channel":"voice","destination":"+31612345678","caller_id":"+31201234567","quantity":0,"occurred_at":"2026-03-10T08:00:00Z"}`
	p := ledger.Prepare(ledger.Delivery{Subject: "usage.voice.acme", Data: []byte(body)}, f.book, f.tariffs)
	plan, err := f.store.ChargeBatch(f.ctx, []ledger.Prepared{p}, at("2026-03-10T08:00:01Z"))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Outcomes[0] != ledger.OutcomeCharged {
		t.Fatalf("outcome %s", plan.Outcomes[0])
	}
	f.runDue("2026-04-01T00:00:00Z")
	// The 0.00 invoice posts a transaction with no entries (invariant 1's check).
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Errorf("invariants after the run: %v", err)
	}
	for _, v := range f.invoices("acme") {
		t.Errorf("invoice %s total %s status %s for a month of one uncharged call: want no invoice (and never %q without a credit note)",
			v.Number, v.Total, v.Status, "credited")
	}
}
