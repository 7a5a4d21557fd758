package billing

import (
	"context"
	"ledger/ledger"
	"ledger/money"
	"time"
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
	FileClaim(ctx context.Context, account string, c ledger.Claim, by string, now time.Time) (ClaimView, bool, error)
	Claims(ctx context.Context, account, after string, limit int) ([]ClaimView, error)
	Liability(ctx context.Context, account string, now time.Time) (LiabilityView, error)
}

// FileClaim files a claim for damages (R12, T&C 8.4) and grants what the liability cap leaves
// of it; the claim must say when its incident happened, which fixes the window of the cap.
// Idempotent on id.
func (s *Service) FileClaim(ctx context.Context, account string, c ledger.Claim, by string) (ClaimView, bool, error) {
	if c.IncidentAt.IsZero() {
		return ClaimView{}, false, ledger.Errorf(ledger.CodeInvalid, "incident_at is required: when the event giving rise to the claim happened (T&C 8.4)")
	}
	return s.Claims.FileClaim(ctx, account, c, by, s.Now())
}

// Liability reads an account's liability now (R12, T&C 8.4).
func (s *Service) Liability(ctx context.Context, account string) (LiabilityView, error) {
	return s.Claims.Liability(ctx, account, s.Now())
}
