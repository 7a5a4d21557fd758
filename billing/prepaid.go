package billing

import (
	"context"
	"ledger/ledger"
	"ledger/money"
	"time"
)

// LotView is a lot as stored, with what became of it.
type LotView struct {
	ledger.Lot
	Account     string
	Method      string
	Amount      money.Micros // topped up
	Reversed    money.Micros // charged back against this top-up (R10)
	Seq         int64
	ChargedBack money.Micros // set off against this lot by chargebacks (R10)
	Expired     money.Micros // forfeited at expiry (R9)
	CreatedAt   time.Time
	CreatedBy   string
}

// PrepaidView is an account's prepaid balances as the API shows them.
type PrepaidView struct {
	Usable, Pending, Shortfall money.Micros
	ChargebacksOwed            money.Micros // charged back beyond the balance (R10)
	Lots                       []LotView
}

// AccountTopUp is a top-up of an account, for bulk loads.
type AccountTopUp struct {
	Account string
	ledger.TopUp
}

// ChargebackView is a booked chargeback and what it did.
type ChargebackView struct {
	ID, Account, TopUpID string
	Amount, SetOff, Owed money.Micros
	At                   time.Time
	Closed               bool // the account was closed: no balance remained (T&C 3.14)
}

// LotStore keeps the prepaid lots, the top-ups that made them and the chargebacks against them.
type LotStore interface {
	Lots(ctx context.Context, account string) ([]LotView, error)
	Prepaid(ctx context.Context, account string) (PrepaidView, error)
	TopUp(ctx context.Context, account string, t ledger.TopUp, by string, now time.Time) (LotView, bool, error)
	Chargeback(ctx context.Context, account string, n ledger.Chargeback, by string, now time.Time) (ChargebackView, bool, error)
}

// TopUp books a top-up of a prepaid account (R9, T&C 3.13): a lot usable from 00:00 Amsterdam
// the day after receipt, expiring 12 months after. Idempotent on the top-up's id: the same
// top-up again answers the lot (created false); another under the same id is a conflict.
func (s *Service) TopUp(ctx context.Context, account string, req ledger.NewTopUp, by string) (LotView, bool, error) {
	now := s.Now()
	t, err := req.Validate(now)
	if err != nil {
		return LotView{}, false, err
	}
	return s.Lots.TopUp(ctx, account, t, by, now)
}

// Chargeback books a reversed card top-up (R10, T&C 3.14): the reversed amount is taken back
// from the lot and what it cannot cover is owed; the customer is in default. Idempotent on id.
func (s *Service) Chargeback(ctx context.Context, account string, req ledger.NewChargeback, by string) (ChargebackView, bool, error) {
	now := s.Now()
	c, err := req.Validate(now)
	if err != nil {
		return ChargebackView{}, false, err
	}
	return s.Lots.Chargeback(ctx, account, c, by, now)
}

// Refund refuses, naming the rule: a prepaid balance is non-refundable (R9, T&C 3.13), and what
// a postpaid customer paid beyond its invoices is set off against the next ones (T&C 3.7, 3.10).
// The contract keeps the route so that the refusal is an answer, not a 404.
func (s *Service) Refund(ctx context.Context, account string) error {
	v, err := s.Accounts.Account(ctx, account)
	if err != nil {
		return err
	}
	if v.Type == ledger.Prepaid {
		return ledger.Refusef("T&C 3.13", "prepaid balances are non-refundable: account %q's credit can only be used for services, or expires 12 months after each top-up", v.ID)
	}
	return ledger.Refusef("T&C 3.7, 3.10", "account %q is postpaid: what it paid beyond its invoices is set off against the next ones, not refunded", v.ID)
}
