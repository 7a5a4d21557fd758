package billing

import (
	"context"
	"fmt"
	"time"

	"ledger/ledger"
	"ledger/money"
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
	// WithLots runs fn in one write transaction: what fn reads through the tx sees the writes
	// before it, and what it writes commits together or not at all.
	WithLots(ctx context.Context, fn func(tx LotTx) error) error
	Lot(ctx context.Context, id string) (LotView, error)
	Lots(ctx context.Context, account string) ([]LotView, error)
	Prepaid(ctx context.Context, account string) (PrepaidView, error)
	// ChargebackOf reads a booked chargeback; ledger.CodeNotFound when there is none.
	ChargebackOf(ctx context.Context, id string) (ChargebackView, error)
}

// LotTx is what booking a top-up reads and writes, inside one transaction.
type LotTx interface {
	LotExists(id string) (bool, error)
	// Prepaid is a prepaid account's credit as the transaction stages it: what is changed on it
	// stays if the transaction commits. For a postpaid account it is nil, with the account's
	// type; ledger.CodeNotFound when there is no such account.
	Prepaid(account string) (*ledger.PrepaidCredit, ledger.AccountType, error)
	// Reopen undoes the closure of an account for want of a top-up (T&C 3.15) and announces it.
	Reopen(p *ledger.PrepaidCredit, t ledger.TopUp, at time.Time) error
	// SaveTopUp books a top-up: the journal transaction that moves the money onto the lot, and
	// the lot, added to the account's prepaid credit.
	SaveTopUp(p *ledger.PrepaidCredit, lot ledger.Lot, posting ledger.Transaction, method, by string, at time.Time) error

	ChargebackExists(id string) (bool, error)
	// TopUpLot reads the lot a top-up made; ledger.CodeNotFound when there is none.
	TopUpLot(id string) (LotView, error)
	// ChargedBack is what chargebacks reversed of a top-up so far.
	ChargedBack(topUpID string) (money.Micros, error)
	// SaveChargeback books a decided chargeback: what each lot gave up, the journal
	// transaction, the closure of an account left with nothing (T&C 3.14), the chargeback and
	// its notice.
	SaveChargeback(p *ledger.PrepaidCredit, d ChargebackDecision) error
}

// ChargebackDecision is a chargeback as decided, for the store to record.
type ChargebackDecision struct {
	View    ChargebackView
	Draws   []ledger.Draw // set off against the lots, the reversed one's remainder first
	Posting ledger.Transaction
	By      string
	At      time.Time // when it was booked
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
	return s.bookTopUp(ctx, account, t, by, now)
}

// BookTopUp books a top-up validated now (TopUp).
func (s *Service) BookTopUp(ctx context.Context, account string, t ledger.TopUp, by string) (LotView, bool, error) {
	return s.bookTopUp(ctx, account, t, by, s.Now())
}

func (s *Service) bookTopUp(ctx context.Context, account string, t ledger.TopUp, by string, now time.Time) (LotView, bool, error) {
	// What fell due before the money was received (validated: not after now) runs first; what
	// fell due after it, after it is booked (it may have prevented a closure).
	if _, err := s.RunDue(ctx, t.ReceivedAt); err != nil {
		return LotView{}, false, err
	}
	created := false
	err := s.Lots.WithLots(ctx, func(tx LotTx) error {
		if exists, err := tx.LotExists(t.ID); err != nil || exists {
			if exists {
				auditRetry(ctx)
			}
			return err // a retry: answered below with what the first request booked
		}
		created = true
		return bookLot(tx, account, t, by, now)
	})
	if err != nil {
		return LotView{}, false, err
	}
	if created {
		if _, err := s.RunDue(ctx, now); err != nil {
			return LotView{}, false, err
		}
	}
	v, err := s.Lots.Lot(ctx, t.ID)
	if err == nil && !created {
		err = sameTopUp(v, account, t)
	}
	return v, created, err
}

// BookTopUps books many new top-ups in one transaction (imports of balances kept elsewhere,
// benchmarks): all or none. Unlike TopUp it is not idempotent: a known id fails the load.
func (s *Service) BookTopUps(ctx context.Context, topUps []AccountTopUp, by string) error {
	now := s.Now()
	if _, err := s.RunDue(ctx, now); err != nil {
		return err
	}
	return s.Lots.WithLots(ctx, func(tx LotTx) error {
		for _, t := range topUps {
			if err := bookLot(tx, t.Account, t.TopUp, by, now); err != nil {
				return fmt.Errorf("top-up %s of %s: %w", t.ID, t.Account, err)
			}
		}
		return nil
	})
}

// bookLot decides one top-up inside the transaction: a closed account takes none, unless it
// was closed for want of a top-up and this one was received before the closure
// (ledger.TakesTopUp, T&C 3.15).
func bookLot(tx LotTx, account string, t ledger.TopUp, by string, now time.Time) error {
	p, typ, err := tx.Prepaid(account)
	if err != nil {
		return err
	}
	if p == nil {
		return ledger.RequirePrepaid(account, typ, "top-ups")
	}
	reopen, err := ledger.TakesTopUp(p, t.ReceivedAt)
	if err != nil {
		return err
	}
	if reopen {
		if err := tx.Reopen(p, t, now); err != nil {
			return err
		}
	}
	lot := ledger.NewLot(account, t)
	posting := ledger.Transaction{Kind: ledger.KindTopUp, At: t.ReceivedAt, Memo: "top-up " + t.ID + " (" + t.Method + ")",
		Entries: []ledger.Entry{
			{LedgerAccount: ledger.CashAccount(t.Method), Amount: t.Amount},
			{LedgerAccount: lot.LedgerAccount, AccountID: account, Amount: -t.Amount},
		}}
	return tx.SaveTopUp(p, lot, posting, t.Method, by, now)
}

// sameTopUp refuses a top-up under a known id whose terms differ from the one booked.
func sameTopUp(v LotView, account string, t ledger.TopUp) error {
	// received_at left out defaults to now: a retry a moment later is the same top-up.
	if v.Account != account || v.Amount != t.Amount || (t.ReceivedGiven && !v.ReceivedAt.Equal(t.ReceivedAt)) || v.Method != t.Method {
		return ledger.Errorf(ledger.CodeConflict, "top-up %q exists with other terms (account %s, %s EUR, received %s, %s)",
			t.ID, v.Account, money.FormatInvoice(v.Amount.Decimal()), v.ReceivedAt.Format(time.RFC3339), v.Method)
	}
	return nil
}

// Chargeback books a reversed top-up (R10, T&C 3.14): the customer is in default. The amount
// is set off against the balance — the reversed lot's remainder first, then the other lots by
// earliest expiry (ledger.PrepaidCredit.SetOff) — and what the balance cannot cover is owed;
// when no balance remains the account is closed (reason chargeback). Idempotent on the
// chargeback's id: the same again answers what was booked (created false); another under the
// same id is a conflict.
func (s *Service) Chargeback(ctx context.Context, account string, req ledger.NewChargeback, by string) (ChargebackView, bool, error) {
	now := s.Now()
	n, err := req.Validate(now)
	if err != nil {
		return ChargebackView{}, false, err
	}
	if _, err := s.RunDue(ctx, now); err != nil {
		return ChargebackView{}, false, err
	}
	var view ChargebackView
	created := false
	err = s.Lots.WithLots(ctx, func(tx LotTx) error {
		if exists, err := tx.ChargebackExists(n.ID); err != nil || exists {
			if exists {
				auditRetry(ctx)
			}
			return err // a retry: answered below with what was booked
		}
		lot, err := tx.TopUpLot(n.TopUpID)
		if (err == nil && lot.Account != account) || ledger.ErrorCode(err) == ledger.CodeNotFound {
			return ledger.Errorf(ledger.CodeNotFound, "account %q has no top-up %q", account, n.TopUpID)
		} else if err != nil {
			return err
		}
		if err := ledger.CanChargeBack(n.TopUpID, lot.Method); err != nil {
			return err
		}
		if n.At.Before(lot.ReceivedAt) {
			return ledger.Errorf(ledger.CodeInvalid, "at %s is before top-up %q was received (%s)",
				n.At.Format(time.RFC3339), n.TopUpID, lot.ReceivedAt.Format(time.RFC3339))
		}
		p, typ, err := tx.Prepaid(account)
		if err != nil {
			return err
		}
		if p == nil {
			return ledger.RequirePrepaid(account, typ, "chargebacks")
		}
		reversed, err := tx.ChargedBack(n.TopUpID)
		if err != nil {
			return err
		}
		if left := lot.Amount - reversed; n.Amount > left {
			return &ledger.Error{Code: ledger.CodeConflict, Clause: "T&C 3.14", Message: fmt.Sprintf(
				"top-up %q was %s EUR, of which %s EUR is charged back already: a chargeback of %s EUR exceeds it",
				n.TopUpID, money.FormatInvoice(lot.Amount.Decimal()), money.FormatInvoice(reversed.Decimal()),
				money.FormatInvoice(n.Amount.Decimal()))}
		}
		draws, owed := p.SetOff(n.TopUpID, n.Amount)
		posting := ledger.Transaction{Kind: ledger.KindChargeback, At: n.At, Memo: "chargeback " + n.ID + " of top-up " + n.TopUpID + " (R10, T&C 3.14)",
			Entries: []ledger.Entry{{LedgerAccount: ledger.CashAccount(lot.Method), Amount: -n.Amount}}}
		for _, d := range draws {
			posting.Entries = append(posting.Entries, ledger.Entry{LedgerAccount: d.LedgerAccount, AccountID: account, Amount: d.Amount})
		}
		if owed > 0 {
			posting.Entries = append(posting.Entries, ledger.Entry{LedgerAccount: ledger.CustomerChargebacks(account), AccountID: account, Amount: owed})
		}
		p.Touch(n.At)
		usable, pending := p.Balance()
		view = ChargebackView{ID: n.ID, Account: account, TopUpID: n.TopUpID, Amount: n.Amount, SetOff: n.Amount - owed, Owed: owed, At: n.At,
			Closed: usable+pending == 0 && !p.Closed}
		created = true
		return tx.SaveChargeback(p, ChargebackDecision{View: view, Draws: draws, Posting: posting, By: by, At: now})
	})
	if err != nil || created {
		return view, created, err
	}
	v, err := s.Lots.ChargebackOf(ctx, n.ID)
	if err == nil && (v.Account != account || v.TopUpID != n.TopUpID || v.Amount != n.Amount) {
		return ChargebackView{}, false, ledger.Errorf(ledger.CodeConflict, "chargeback %q exists with other terms (account %s, top-up %s, %s EUR)",
			n.ID, v.Account, v.TopUpID, money.FormatInvoice(v.Amount.Decimal()))
	}
	return v, false, err
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
