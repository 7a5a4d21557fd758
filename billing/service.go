package billing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"ledger/clock"
	"ledger/ledger"
	"ledger/pricing"
)

// Stores are the aggregates' stores a Service uses. One adapter (sql.Store) implements them
// all today; they are separate so that each use case names what it touches.
type Stores struct {
	Accounts    AccountStore
	Agreements  AgreementStore
	Lots        LotStore
	Receivables ReceivableStore
	Claims      ClaimStore
	Runs        BillingRunStore
	Charges     ChargeStore
	Parked      ParkedStore
	Outbox      OutboxStore
	SavedClock  ClockStore
	Audits      AuditStore
	Subjects    SubjectStore
}

// Store is every aggregate's store in one value, as an adapter that keeps them all provides it.
type Store interface {
	AccountStore
	AgreementStore
	LotStore
	ReceivableStore
	ClaimStore
	BillingRunStore
	ChargeStore
	ParkedStore
	OutboxStore
	ClockStore
	AuditStore
	SubjectStore
}

// StoresOf returns the aggregates' stores of an adapter that keeps them all.
func StoresOf(s Store) Stores {
	return Stores{Accounts: s, Agreements: s, Lots: s, Receivables: s, Claims: s, Runs: s, Charges: s,
		Parked: s, Outbox: s, SavedClock: s, Audits: s, Subjects: s}
}

// Service runs the use cases against the stores, with the time from Clock.
type Service struct {
	Stores
	Clock clock.Clock
	// TestClock is the clock when it is the test clock (--test-clock), nil otherwise: SetClock
	// moves it.
	TestClock *clock.Test
	// Charging charges usage and answers authorisations, from the credit book.
	Charging *Charging
	// PersonalDataRetention: after it, counted from occurred_at, a record's pseudonym is
	// removed (R14); 0 keeps them.
	PersonalDataRetention time.Duration
	// Log, when set, hears of every billing run: what it issued, and how late (runPeriod).
	Log *slog.Logger
	// Cluster, when set, is refreshed before a use case that decides by the clock: another
	// instance may have moved the shared test clock (docs/scaling.md).
	Cluster ClusterStore

	watchMu sync.Mutex
	watched time.Time // where the last RunDue got to (watchedUntil)
}

// New returns the use cases over the stores, charging against the credit book with the
// tariffs t.
func New(stores Stores, c clock.Clock, test *clock.Test, book *ledger.CreditBook, t *pricing.Tariffs) *Service {
	charging := &Charging{Store: struct {
		ChargeStore
		ParkedStore
	}{stores.Charges, stores.Parked}, Accounts: book, Clock: c}
	charging.SetTariffs(t)
	s := &Service{Stores: stores, Clock: c, TestClock: test, Charging: charging, watched: c.Now()}
	charging.finalUsage = s.invoiceFinalUsage
	return s
}

// Now is the ledger's time: the wall clock, or the test clock.
func (s *Service) Now() time.Time { return s.Clock.Now() }

// ErrNoTestClock refuses reading or moving the clock of a ledger on the wall clock.
var ErrNoTestClock = ledger.Errorf(ledger.CodeNotFound, "the clock can be read and set only with --test-clock")

// TestNow returns the test clock's time.
func (s *Service) TestNow() (time.Time, error) {
	if s.TestClock == nil {
		return time.Time{}, ErrNoTestClock
	}
	if err := s.refresh(context.Background()); err != nil {
		return time.Time{}, err
	}
	return s.TestClock.Now(), nil
}

// ErrClockAhead is a ClockStore's answer when the time it keeps is later than the one it was
// asked to keep: another instance moved the shared clock on (docs/scaling.md). The clock only
// moves forward; SetClock says where it stands.
var ErrClockAhead = ledger.Errorf(ledger.CodeConflict, "%v: another instance has moved it further", clock.ErrBackwards)

// ClockStore keeps the test clock's time across restarts.
type ClockStore interface {
	TestClock(ctx context.Context) (now time.Time, ok bool, err error)
	SaveTestClock(ctx context.Context, now time.Time) error
}
