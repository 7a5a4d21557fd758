package billing_test

import (
	"testing"

	"ledger/ledger"
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
