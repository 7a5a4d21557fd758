package billing_test

import (
	"testing"

	"ledger/ledger"
	"ledger/money"
)

// R10, T&C 3.14: only a card top-up can be charged back; a SEPA credit transfer cannot be
// reversed, and its chargeback is refused naming the rule.
func TestChargeback_bank_top_up_refused(t *testing.T) {
	b := newBooks(t, "2026-03-02T09:00:00Z")
	b.open("pre", "prepaid")
	now := b.clock.Now()
	for _, method := range []string{ledger.MethodBank, ledger.MethodCard} {
		top, err := ledger.NewTopUp{ID: "t-" + method, Amount: "50.00", Method: method, ReceivedAt: now.Format("2006-01-02T15:04:05Z")}.Validate(now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.uses.BookTopUp(b.ctx, "pre", top, "test"); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := b.uses.Chargeback(b.ctx, "pre", ledger.NewChargeback{ID: "cb-1", TopUpID: "t-bank", Amount: "10.00"}, "test")
	wantRefusal(t, err, ledger.CodeRefused, "R10")
	if _, _, err := b.uses.Chargeback(b.ctx, "pre", ledger.NewChargeback{ID: "cb-2", TopUpID: "t-card", Amount: "10.00"}, "test"); err != nil {
		t.Errorf("a card top-up's chargeback: %v", err)
	}
}

// Issue 15: the example tariffs keep charging in 2027 — their example CPI change for 2026 (2 %)
// indexes the 2026 list price of an SMS to NL (0.075) to 0.0765 — and R3 stays loud a year
// later, when the 2027 change is missing.
func TestExampleTariffs_charge_in_2027(t *testing.T) {
	b := newBooks(t, "2027-03-02T09:00:00Z")
	b.open("acme", "postpaid")
	plan := b.sms("acme", 0, 1)
	if len(plan.Charges) != 1 || len(plan.Parked) != 0 || plan.Charges[0].Total() != money.Micros(76_500) {
		t.Fatalf("charges %+v, parked %+v; want one SMS at 0.076500", plan.Charges, plan.Parked)
	}
	b.clock.Set(at("2028-03-02T09:00:00Z"))
	plan = b.sms("acme", 1, 1)
	if len(plan.Parked) != 1 || plan.Parked[0].Reason != ledger.ReasonMissingCPI {
		t.Errorf("a 2028 event: parked %+v, want missing_cpi (R3: the 2027 change is not in the example set)", plan.Parked)
	}
}
