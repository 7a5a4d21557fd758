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

// BillingRunStore runs billing periods and the steps of the due jobs. A billing run issues
// every invoice of its period in one transaction, numbered without gaps (R5).
type BillingRunStore interface {
	// RunBilling invoices a period on request, after the periods before it that have not run.
	RunBilling(ctx context.Context, period invoices.Period, now time.Time, by string) ([]BillingRun, error)
	BillingRunOf(ctx context.Context, period invoices.Period) (BillingRun, bool, error)
	// NextReceivablesDue is the next of the receivables' due items: the end of the first
	// period not yet invoiced, or the day after the earliest due date of an invoice with money
	// outstanding and not yet overdue; ok false when there is neither.
	NextReceivablesDue(ctx context.Context) (at time.Time, what DueKind, ok bool, err error)
	// RunPrepaidDue runs, in time order, the prepaid items due up to at: lots becoming usable
	// (T&C 3.13) and expiring (R9), idle accounts closing (T&C 3.15). It says how many ran.
	RunPrepaidDue(ctx context.Context, at time.Time) (int, error)
	// RunPeriod invoices one period (R5); a conflict when it ran already.
	RunPeriod(ctx context.Context, period invoices.Period, by string) (BillingRun, error)
	// MarkOverdue marks what is overdue at at (R6) and announces it.
	MarkOverdue(ctx context.Context, at time.Time) error
}

// DueKind names a receivables' due item.
type DueKind int

// The receivables' due items.
const (
	DueBillingRun DueKind = iota + 1 // a period ended: its billing run (R5)
	DueOverdue                       // an invoice's due date passed: overdue from the next day (R6)
)

// RunDue does, in time order, everything that has fallen due up to now: prepaid lots becoming
// usable and expiring, prepaid accounts closing (T&C 3.15), the billing run of each month at
// the start of the next (R5), invoices becoming overdue the day after their due date (R6). Each
// runs at its own instant, whenever RunDue is called — on time, or catching up after downtime:
// what fell due before a billing run runs before it, so the run sees the lots and closures of
// its time. It says how many things ran.
func (s *Service) RunDue(ctx context.Context, now time.Time) (int, error) {
	ran := 0
	for {
		next, what, ok, err := s.Runs.NextReceivablesDue(ctx)
		if err != nil {
			return ran, err
		}
		if !ok || next.After(now) {
			break
		}
		n, err := s.Runs.RunPrepaidDue(ctx, next)
		ran += n
		if err != nil {
			return ran, err
		}
		switch what {
		case DueBillingRun:
			// A run asked for at the same time may have taken the period: then it is done.
			if _, err := s.Runs.RunPeriod(ctx, invoices.PeriodOf(next.Add(-time.Nanosecond)), "clock"); err != nil &&
				ledger.ErrorCode(err) != ledger.CodeConflict {
				return ran, err
			}
		case DueOverdue:
			if err := s.Runs.MarkOverdue(ctx, next); err != nil {
				return ran, err
			}
		}
		ran++
	}
	n, err := s.Runs.RunPrepaidDue(ctx, now)
	return ran + n, err
}

// RunBilling invoices a period on request (R5, T&C 3.2): first what has come due (so the
// period's usage, interest and set-off are current), then the period, after the periods before
// it that have not run. A period runs once: asked for again, or after the clock ran it at the
// start of the next month, it answers the run that issued its invoices with ranBefore true and
// issues nothing. A period that has not ended is refused (409).
func (s *Service) RunBilling(ctx context.Context, period invoices.Period, by string) (runs []BillingRun, ranBefore bool, err error) {
	now := s.Now()
	if _, err := s.RunDue(ctx, now); err != nil {
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
	if _, err := s.RunDue(ctx, t); err != nil {
		return fmt.Errorf("run what is due at %s: %w", t.Format(time.RFC3339Nano), err)
	}
	return nil
}
