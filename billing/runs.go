package billing

import (
	"context"
	"errors"
	"fmt"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"time"

	"github.com/shopspring/decimal"
)

// Invoicing is what billing runs need beyond the database: the late-payment rates (R6) and the
// collection costs per overdue invoice.
type Invoicing struct {
	Rates           []invoices.Rate
	CollectionCosts decimal.Decimal
}

// BillingRun is one period invoiced.
type BillingRun struct {
	Period   invoices.Period
	RanAt    time.Time
	By       string
	Invoices []string // the numbers issued, in order
}

// BillingRunStore runs billing periods and the due jobs. A billing run issues every invoice of
// its period in one transaction, numbered without gaps (R5); RunDue runs, in order, what has
// come due up to now: prepaid lots becoming usable and expiring, idle prepaid accounts closed,
// overdue marks, late interest and collection costs, indexation notices, periods that ended.
type BillingRunStore interface {
	RunBilling(ctx context.Context, period invoices.Period, now time.Time, by string) ([]BillingRun, error)
	BillingRunOf(ctx context.Context, period invoices.Period) (BillingRun, bool, error)
	RunDue(ctx context.Context, now time.Time) (int, error)
}

// RunDue runs what has come due up to now and says how many steps ran.
func (s *Service) RunDue(ctx context.Context, now time.Time) (int, error) {
	return s.Runs.RunDue(ctx, now)
}

// RunBilling invoices a period on request (R5, T&C 3.2): first what has come due (so the
// period's usage, interest and set-off are current), then the period, after the periods before
// it that have not run. A period runs once: asked for again, or after the clock ran it at the
// start of the next month, it answers the run that issued its invoices with ranBefore true and
// issues nothing. A period that has not ended is refused (409).
func (s *Service) RunBilling(ctx context.Context, period invoices.Period, by string) (runs []BillingRun, ranBefore bool, err error) {
	now := s.Now()
	if _, err := s.Runs.RunDue(ctx, now); err != nil {
		return nil, false, err
	}
	runs, err = s.Runs.RunBilling(ctx, period, now, by)
	if ledger.ErrorCode(err) != ledger.CodeConflict {
		return runs, false, err
	}
	run, ok, lookupErr := s.Runs.BillingRunOf(ctx, period)
	if lookupErr != nil {
		return nil, false, lookupErr
	}
	if !ok {
		return nil, false, err // the period has not ended
	}
	return []BillingRun{run}, true, nil
}

// SetClock moves the test clock forward to t, keeps it for a restart, and returns once
// everything due up to t has run. Moving it back is refused (409): what ran stays run.
func (s *Service) SetClock(ctx context.Context, t time.Time) error {
	if s.TestClock == nil {
		return ErrNoTestClock
	}
	if err := s.TestClock.Set(t); err != nil {
		if errors.Is(err, clock.ErrBackwards) {
			return ledger.Errorf(ledger.CodeConflict, "%v", err)
		}
		return err
	}
	if err := s.SavedClock.SaveTestClock(ctx, t); err != nil {
		return fmt.Errorf("save the test clock: %w", err)
	}
	if _, err := s.Runs.RunDue(ctx, t); err != nil {
		return fmt.Errorf("run what is due at %s: %w", t.Format(time.RFC3339Nano), err)
	}
	return nil
}
