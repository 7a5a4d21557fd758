package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"

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
	// WithBillingRun runs fn in one write transaction, made for issuing many invoices at once.
	WithBillingRun(ctx context.Context, fn func(tx BillingRunTx) error) error
	BillingRunOf(ctx context.Context, period invoices.Period) (BillingRun, bool, error)
	// NextPeriod is the first period not yet invoiced: the one after the last run, or the
	// period of the first postpaid account's registration; ok false when there is none.
	NextPeriod(ctx context.Context) (period invoices.Period, ok bool, err error)
	// NextReceivablesDue is the next of the receivables' due items: the end of the first
	// period not yet invoiced, or the day after the earliest due date of an invoice with money
	// outstanding and not yet overdue; ok false when there is neither.
	NextReceivablesDue(ctx context.Context) (at time.Time, what DueKind, ok bool, err error)
	// RunPrepaidDue runs, in time order, the prepaid items due up to at: lots becoming usable
	// (T&C 3.13) and expiring (R9), idle accounts closing (T&C 3.15). It says how many ran.
	RunPrepaidDue(ctx context.Context, at time.Time) (int, error)
	// MarkOverdue marks what is overdue at at (R6) and announces it.
	MarkOverdue(ctx context.Context, at time.Time) error
}

// BillingRunTx is what a billing run reads and writes, inside its one transaction.
type BillingRunTx interface {
	PeriodRan(period invoices.Period) (bool, error)
	// Invoiceable lists every postpaid account, in account order, with what it has open for
	// the period and before: usage (late events included, R5) and interest and collection
	// costs through lastDay (R6).
	Invoiceable(period invoices.Period, lastDay clock.LocalDate) ([]Invoiceable, error)
	// Issue issues an account's invoice: its number (without gaps, R5), the document, its
	// posting, the usage and late charges it takes, the notice, credit control and the
	// customer's credit set off against it (R8). byRun: a billing run issues it.
	Issue(d invoices.Draft, what Invoiceable, at time.Time, byRun bool) (number string, err error)
	// SaveRun records the run; a period is invoiced once.
	SaveRun(run BillingRun) error
}

// Invoiceable is a postpaid account as a billing run finds it: who it is and what it has open.
type Invoiceable struct {
	Account   string
	Customer  invoices.Party
	TermsDays int
	VAT       invoices.VAT
	Notes     []string // the invoice's notes: the indexation applied (R3, T&C 3.4)
	// Usage is what its open usage lines charge, in all (each line ≥ 0).
	Usage money.Micros
	Late  []invoices.Line // interest and collection costs to charge (R6)
	// Store is the store's own handle on what Issue takes; only that store reads it.
	Store any
}

// somethingToInvoice reports whether an account gets an invoice (R5, R6): usage that charges
// anything, or interest or collection costs. Calls of 0 seconds open a line of nothing, which
// waits for a real charge rather than making an invoice of 0.00.
func (i Invoiceable) somethingToInvoice() bool {
	return i.Usage > 0 || len(i.Late) > 0
}

// runPeriod issues the invoices of one period in one transaction (R5): every postpaid account
// with something to invoice gets one, numbered in account order. at is the instant the run
// really happens: an invoice is dated the day it is issued, never earlier than the period's
// issue date (the 1st of the next month, T&C 3.2), and is due its terms after that (T&C 3.7).
// A period invoiced late — after downtime, or because its usage was back-filled — is dated the
// day of the run, so it is never overdue at birth and interest and collection costs run only
// from a due date the customer was really given (R6). A period runs once: asked again, a
// conflict.
func (s *Service) runPeriod(ctx context.Context, period invoices.Period, at time.Time, by string) (BillingRun, error) {
	issued := invoices.IssueDateAt(period, at)
	if at.Before(period.End()) {
		at = period.End()
	}
	run := BillingRun{Period: period, RanAt: at, By: by}
	err := s.Runs.WithBillingRun(ctx, func(tx BillingRunTx) error {
		run.Invoices = run.Invoices[:0]
		if ran, err := tx.PeriodRan(period); err != nil {
			return err
		} else if ran {
			return ledger.Errorf(ledger.CodeConflict, "period %s was invoiced already: a period runs once (R5)", period)
		}
		// R6: interest and collection costs through the day before the invoices are issued.
		accounts, err := tx.Invoiceable(period, issued.AddDays(-1))
		if err != nil {
			return err
		}
		progress := progressOf(ctx)
		total := 0
		for _, a := range accounts {
			if a.somethingToInvoice() {
				total++
			}
		}
		if progress != nil {
			progress(period, 0, total)
		}
		for _, a := range accounts {
			if !a.somethingToInvoice() {
				continue
			}
			number, err := tx.Issue(invoices.Draft{Account: a.Account, Customer: a.Customer, Period: period,
				IssueDate: issued, TermsDays: a.TermsDays, VAT: a.VAT, Notes: a.Notes}, a, at, true)
			if err != nil {
				return fmt.Errorf("invoice %s for %s: %w", period, a.Account, err)
			}
			run.Invoices = append(run.Invoices, number)
			if progress != nil {
				progress(period, len(run.Invoices), total)
			}
		}
		return tx.SaveRun(run)
	})
	if err == nil {
		s.logRun(run, issued)
	}
	return run, err
}

// logRun says what a billing run did: the period, the invoices it issued and the day they are
// dated, and, for a period invoiced after its issue date, how late (a catch-up).
func (s *Service) logRun(run BillingRun, issued clock.LocalDate) {
	if s.Log == nil {
		return
	}
	args := []any{"period", run.Period.String(), "invoices", len(run.Invoices), "issue_date", issued.String(), "by", run.By}
	if late := issued.DaysSince(run.Period.IssueDate()); late > 0 {
		args = append(args, "catch_up", fmt.Sprintf("%d days after the period's issue date %s", late, run.Period.IssueDate()))
	}
	if len(run.Invoices) == 0 {
		args = append(args, "note", "nothing to invoice: no account had usage, interest or collection costs open (R5)")
	}
	s.Log.Info("billing run", args...)
}

// RunPeriods invoices a period on request, after the periods before it that have not run yet,
// in order (R5, T&C 3.2): only once it has ended, and once (a conflict after).
func (s *Service) RunPeriods(ctx context.Context, period invoices.Period, by string) ([]BillingRun, error) {
	return s.runPeriods(ctx, period, s.Now(), by)
}

func (s *Service) runPeriods(ctx context.Context, period invoices.Period, now time.Time, by string) ([]BillingRun, error) {
	if err := period.CheckEnded(now); err != nil {
		return nil, err
	}
	// A period that ran already is after the last run or was run alone: runPeriod refuses it.
	var runs []BillingRun
	for {
		next, ok, err := s.Runs.NextPeriod(ctx)
		if err != nil {
			return runs, err
		}
		if !ok || period.Before(next) {
			next = period // nothing registered before it, or runs went past it: run it alone
		}
		run, err := s.runPeriod(ctx, next, now, by)
		if err != nil && (next == period || ledger.ErrorCode(err) != ledger.CodeConflict) {
			return runs, err
		}
		if err == nil {
			runs = append(runs, run)
		}
		if next == period {
			return runs, nil
		}
	}
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
// the start of the next (R5), invoices becoming overdue the day after their due date (R6). It
// says how many things ran.
//
// What fell due while the ledger watched its clock — the wall clock between two calls, the test
// clock moved forward (SetClock) — runs at its own instant, as if it had run then. What fell due
// before that — while the service was stopped, or before a back-filled period was invoiced —
// runs now: lots and closures keep their instants (their rules date them), but a billing run
// dates its invoices the day it really issues them (runPeriod). Either way what fell due before
// a billing run runs before it, so the run sees the lots and closures of its time.
func (s *Service) RunDue(ctx context.Context, now time.Time) (int, error) {
	n, _, err := s.runDue(ctx, now)
	return n, err
}

// runDue is RunDue, with the billing runs it made.
func (s *Service) runDue(ctx context.Context, now time.Time) (int, []BillingRun, error) {
	// What falls due is the clock's doing, not the request's that made it run first: it is not
	// the write an audit record in ctx is about.
	ctx = withoutAudit(ctx)
	watched := s.watchedUntil()
	ran := 0
	var runs []BillingRun
	for {
		next, what, ok, err := s.Runs.NextReceivablesDue(ctx)
		if err != nil {
			return ran, runs, err
		}
		if !ok || next.After(now) {
			break
		}
		n, err := s.Runs.RunPrepaidDue(ctx, next)
		ran += n
		if err != nil {
			return ran, runs, err
		}
		switch what {
		case DueBillingRun:
			at := next
			if at.Before(watched) {
				at = watched
			}
			// A run asked for at the same time may have taken the period: then it is done.
			run, err := s.runPeriod(ctx, invoices.PeriodOf(next.Add(-time.Nanosecond)), at, "clock")
			if err != nil && ledger.ErrorCode(err) != ledger.CodeConflict {
				return ran, runs, err
			}
			if err == nil {
				runs = append(runs, run)
			}
		case DueOverdue:
			if err := s.Runs.MarkOverdue(ctx, next); err != nil {
				return ran, runs, err
			}
		}
		ran++
	}
	n, err := s.Runs.RunPrepaidDue(ctx, now)
	if err == nil {
		s.watch(now)
	}
	return ran + n, runs, err
}

// watchedUntil is the instant up to which the ledger has watched its clock: where the last
// RunDue got to, or the clock's time when the service was made.
func (s *Service) watchedUntil() time.Time {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	return s.watched
}

// watch records that everything due up to now has run.
func (s *Service) watch(now time.Time) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if now.After(s.watched) {
		s.watched = now
	}
}

// RunBilling invoices a period on request (R5, T&C 3.2): first what has come due (so the
// period's usage, interest and set-off are current), then the period, after the periods before
// it that have not run. It returns every run it made, the clock's catch-ups included, in order.
// A period runs once: asked for again, or after the clock ran it at the start of the next month
// (or just now, catching up), it answers the run that issued its invoices with ranBefore true
// and issues nothing. A period that has not ended is refused (409).
func (s *Service) RunBilling(ctx context.Context, period invoices.Period, by string) (runs []BillingRun, ranBefore bool, err error) {
	if err := s.refresh(ctx); err != nil {
		return nil, false, err
	}
	now := s.Now()
	_, due, err := s.runDue(ctx, now)
	if err != nil {
		return nil, false, err
	}
	runs, err = s.runPeriods(ctx, period, now, by)
	if ledger.ErrorCode(err) != ledger.CodeConflict {
		return append(due, runs...), false, err
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
	if err := s.refresh(ctx); err != nil {
		return err
	}
	if err := s.TestClock.Set(t); err != nil {
		if errors.Is(err, clock.ErrBackwards) {
			return ledger.Errorf(ledger.CodeConflict, "%v", err)
		}
		return err
	}
	// A test clock not yet set starts where it is set, even back in time: the ledger watches
	// from there (RunDue).
	s.watchMu.Lock()
	if t.Before(s.watched) {
		s.watched = t
	}
	s.watchMu.Unlock()
	if err := s.SavedClock.SaveTestClock(ctx, t); errors.Is(err, ErrClockAhead) {
		stands, _, err := s.SavedClock.TestClock(ctx)
		if err != nil {
			return fmt.Errorf("read the test clock another instance moved: %w", err)
		}
		_ = s.TestClock.Set(stands) // where the other instance moved it
		return ledger.Errorf(ledger.CodeConflict, "%v: it stands at %s, set through another instance; asked for %s",
			clock.ErrBackwards, stands.UTC().Format(time.RFC3339Nano), t.UTC().Format(time.RFC3339Nano))
	} else if err != nil {
		return fmt.Errorf("save the test clock: %w", err)
	}
	if _, err := s.RunDue(ctx, t); err != nil {
		return fmt.Errorf("run what is due at %s: %w", t.Format(time.RFC3339Nano), err)
	}
	if _, err := s.ForgetPersonalData(withoutAudit(ctx), t); err != nil {
		return fmt.Errorf("remove the pseudonyms past their retention at %s: %w", t.Format(time.RFC3339Nano), err)
	}
	return nil
}

// Progress hears how far a billing run has got: the period, the invoices issued so far in its
// transaction and how many it will issue (the console shows it while a run goes on).
type Progress func(period invoices.Period, issued, total int)

type progressKey struct{}

// WithProgress makes the billing runs asked for with ctx tell p how far they have got.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

func progressOf(ctx context.Context) Progress {
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}
