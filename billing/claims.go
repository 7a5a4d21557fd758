package billing

import (
	"context"
	"time"

	"ledger/ledger"
	"ledger/money"
)

// ClaimView is a filed claim and the answer it got (R12, T&C 8.4).
type ClaimView struct {
	ledger.Claim
	Account string
	Granted money.Micros // 0 ≤ Granted ≤ Amount
	// Liability is the account's liability as this claim left it: the window and cap the first
	// claim fixed, and what the claims up to this one were granted in total.
	Liability     ledger.Liability
	TransactionID int64 // the credit of what was granted; 0 when nothing was
	CreatedAt     time.Time
	CreatedBy     string
}

// Refused returns what was not granted of the claim.
func (v ClaimView) Refused() money.Micros { return v.Amount - v.Granted }

// Refusal returns the refusal of what was not granted, naming T&C 8.4, the cap, the granted
// total and what remains; nil when the claim was granted in full.
func (v ClaimView) Refusal() error { return v.Liability.Refusal(v.Amount, v.Granted) }

// LiabilityView is an account's liability as the API shows it (CONTRACT 3.5).
type LiabilityView struct {
	// FirstIncident is the incident of the first claim filed, which fixed the window; zero
	// before any claim.
	FirstIncident time.Time
	// From and To are the window Paid12m counts (ledger.LiabilityWindow): the 12 months before
	// the first incident; before any claim, the 12 months before now — what the cap would be
	// for an incident now, fixed only by the first claim.
	From, To                         time.Time
	Cap, Paid12m, Granted, Remaining money.Micros
	Claims                           int
}

// ClaimStore keeps the claims for damages and the liability they fixed.
type ClaimStore interface {
	// WithClaims runs fn in one write transaction: what fn reads through the ClaimTx sees the
	// writes before it, and what it writes commits together or not at all. Transactions are
	// serialised, so copies of one request arriving together are decided one after the other.
	WithClaims(ctx context.Context, fn func(tx ClaimTx) error) error
	Claim(ctx context.Context, id string) (ClaimView, error)
	Claims(ctx context.Context, account, after string, limit int) ([]ClaimView, error)
	Liability(ctx context.Context, account string, now time.Time) (LiabilityView, error)
}

// ClaimTx is what deciding a claim reads and writes, inside one transaction.
type ClaimTx interface {
	ClaimExists(id string) (bool, error)
	// AccountType is ledger.CodeNotFound when there is no such account.
	AccountType(account string) (ledger.AccountType, error)
	// FixedLiability is the liability the account's first claim fixed, with what all its
	// claims were granted; the zero Liability before the first claim.
	FixedLiability(account string) (ledger.Liability, error)
	// PaidIn lists what the customer paid in the 12 months before incident
	// (ledger.LiabilityWindow): payments received, top-ups less what chargebacks reversed.
	PaidIn(account string, incident time.Time) ([]ledger.Paid, error)
	// SaveClaim records a decided claim: the claim, the liability it leaves, and the credit of
	// what was granted with what follows from it.
	SaveClaim(d ClaimDecision) error
}

// ClaimDecision is a claim as decided, for the store to record.
type ClaimDecision struct {
	Account       string
	Claim         ledger.Claim
	Granted       money.Micros
	Before, After ledger.Liability
	// Credit is the credit of what was granted (ledger.ClaimTransaction); nil when nothing was.
	Credit *ledger.Transaction
	// SetOff: the credit lowers the account's exposure at once (it may resume a suspended
	// account, R4) and is set off against its oldest open invoices, each application its own
	// set_off transaction (R8, T&C 3.10). Postpaid accounts only: a prepaid account has no
	// invoices and no exposure (R9), its credit stays what the provider owes it.
	SetOff bool
	By     string
	At     time.Time
}

// FileClaim files a claim for damages and grants what the liability cap leaves of it (R12,
// T&C 8.4): the first claim filed fixes the window — the 12 months before its incident — and
// with it the cap, what the customer paid in that window, at most €50,000 for all claims
// together; later claims are granted what remains. What is granted is a credit to the customer,
// set off at once against its open invoices (R8); what is not granted is refused: the view says
// how much and why (ClaimView.Refusal), and the claim is recorded all the same — a refusal is an
// answer, not an error. A prepaid account's claims are decided alike, its top-ups counting as
// paid.
//
// Idempotent on the claim id: the same claim again answers what the first request recorded
// (created false); the same id with other terms is a conflict.
func (s *Service) FileClaim(ctx context.Context, account string, c ledger.Claim, by string) (ClaimView, bool, error) {
	now := s.Now()
	if c.IncidentAt.IsZero() {
		return ClaimView{}, false, ledger.Errorf(ledger.CodeInvalid, "incident_at is required: when the event giving rise to the claim happened (T&C 8.4)")
	}
	if err := c.Validate(); err != nil {
		return ClaimView{}, false, err
	}
	if c.IncidentAt.After(now) {
		return ClaimView{}, false, ledger.Errorf(ledger.CodeInvalid, "claim %s: incident_at %s is in the future", c.ID, c.IncidentAt.Format(time.RFC3339))
	}
	c.IncidentAt = c.IncidentAt.UTC()
	// Invoices that fell due up to now are issued first, so that the credit finds them (R8).
	if _, err := s.RunDue(ctx, now); err != nil {
		return ClaimView{}, false, err
	}
	created := false
	err := s.Claims.WithClaims(ctx, func(tx ClaimTx) error {
		if exists, err := tx.ClaimExists(c.ID); err != nil || exists {
			if exists {
				auditRetry(ctx)
			}
			return err // a retry: answered below with what the first request recorded
		}
		created = true
		typ, err := tx.AccountType(account)
		if err != nil {
			return err
		}
		before, err := tx.FixedLiability(account)
		if err != nil {
			return err
		}
		// Only the first claim reads what was paid: after it the cap is fixed (R12).
		var paid []ledger.Paid
		if !before.Fixed() {
			if paid, err = tx.PaidIn(account, c.IncidentAt); err != nil {
				return err
			}
		}
		after, granted, err := before.Decide(c, paid)
		if err != nil {
			return err
		}
		d := ClaimDecision{Account: account, Claim: c, Granted: granted, Before: before, After: after,
			SetOff: granted > 0 && typ == ledger.Postpaid, By: by, At: now}
		if granted > 0 {
			credit, err := ledger.ClaimTransaction(account, c.ID, granted, now)
			if err != nil {
				return err
			}
			d.Credit = &credit
		}
		return tx.SaveClaim(d)
	})
	if err != nil {
		return ClaimView{}, false, err
	}
	v, err := s.Claims.Claim(ctx, c.ID)
	if err == nil && !created && (v.Account != account || v.Amount != c.Amount || !v.IncidentAt.Equal(c.IncidentAt) || v.Reason != c.Reason) {
		return ClaimView{}, false, ledger.Errorf(ledger.CodeConflict, "claim %q exists with other terms (account %s, %s EUR, incident %s)",
			c.ID, v.Account, money.FormatInvoice(v.Amount.Decimal()), v.IncidentAt.Format(time.RFC3339))
	}
	return v, created, err
}

// Liability reads an account's liability now (R12, T&C 8.4).
func (s *Service) Liability(ctx context.Context, account string) (LiabilityView, error) {
	return s.Claims.Liability(ctx, account, s.Now())
}
