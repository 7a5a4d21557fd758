package billing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"ledger/clock"
	"ledger/ledger"
	"ledger/pricing"
)

// RejectedView is one parked event.
type RejectedView struct {
	ID       int64
	EventID  string
	Account  string
	Reason   string
	Detail   string
	Subject  string
	Payload  []byte
	ParkedAt time.Time
	Replays  int
	// Hash is the content hash of the event as it came (its body is kept without its numbers,
	// R14); Pseudonym, the destination's pseudonym while kept.
	Hash      uint64
	Pseudonym string
}

// PlannedBatch is a batch of prepared deliveries planned for the store, ready to commit.
// Planning reads no table, so the next batch is planned while the previous one commits; it
// assumes, as is almost always true, that none of the batch's ids was charged or parked before,
// and Commit checks that inside the transaction (R1).
type PlannedBatch struct {
	Items []ledger.Prepared
	At    time.Time
	Plan  ledger.BatchPlan
	// Encoded is the planning store's own form of the batch (its rows, encoded ahead of the
	// commit); only that store reads it.
	Encoded any
}

// ChargeStore charges batches of usage events exactly once (R1): each event id is charged at
// most once, the journal transaction balances, and nothing is acknowledged before CommitGroup
// returns without error. CommitGroup writes one or more planned batches in one transaction,
// in order, as if each had been committed after the one before it; each batch's Plan is then
// what was written (planned again when an id turned out to be known).
type ChargeStore interface {
	PlanBatch(items []ledger.Prepared, at time.Time) (*PlannedBatch, error)
	CommitGroup(ctx context.Context, pbs []*PlannedBatch) error
}

// ParkedStore keeps the events that could not be charged, with their reason, for replay.
type ParkedStore interface {
	Rejected(ctx context.Context, reason string, afterID int64, limit int) ([]RejectedView, error)
	// ParkedCounts counts the open parked events by reason.
	ParkedCounts(ctx context.Context) (map[string]int, error)
	ParkedDeliveries(ctx context.Context, reason string, afterID int64, limit int) ([]ledger.Delivery, int64, error)
}

// ReplayPageSize bounds how many parked events one replay transaction takes.
const ReplayPageSize = 500

// BatchStore plans and commits batches and gives back parked events for replay.
type BatchStore interface {
	ChargeStore
	ParkedStore
}

// Charging turns deliveries into charges (R1, R2): decode, validate, rate with the tariffs in
// use and plan against the credit book, then commit in one transaction. The consumer of the
// usage stream and replay share it; authorisation (Authorize) answers from the same book and
// tariffs.
type Charging struct {
	Store    BatchStore
	Accounts *ledger.CreditBook
	Clock    clock.Clock
	Log      *slog.Logger
	// Observe, when set, is told of every committed batch (the driver's metrics).
	Observe func(items []ledger.Prepared, plan ledger.BatchPlan)
	// Pseudonyms, when set, takes the numbers out of every delivery before anything of it is
	// kept (R14): a charge keeps the destination's pseudonym, a parked event its body without
	// the numbers. ledgerd always sets it.
	Pseudonyms *ledger.Pseudonyms
	// finalUsage invoices at once what terminated postpaid accounts were just charged for
	// traffic of before their termination (Service.invoiceFinalUsage, R13).
	finalUsage func(ctx context.Context, accounts []string) error

	tariffs atomic.Pointer[pricing.Tariffs]
}

// SetTariffs installs the tariffs used from the next event on.
func (c *Charging) SetTariffs(t *pricing.Tariffs) { c.tariffs.Store(t) }

// Tariffs returns the tariffs in use.
func (c *Charging) Tariffs() *pricing.Tariffs { return c.tariffs.Load() }

// Prepare decodes, validates, rates and plans deliveries as one batch (no database).
func (c *Charging) Prepare(ds []ledger.Delivery) (*PlannedBatch, error) {
	rater := c.tariffs.Load()
	items := make([]ledger.Prepared, len(ds))
	c.Accounts.View(func(accounts ledger.AccountDirectory) {
		for i, d := range ds {
			ledger.PrepareInto(&items[i], d, accounts, rater)
		}
	})
	// The numbers come out before anything of the batch is kept (R14); this needs no account,
	// so the credit book's lock is not held for it.
	if c.Pseudonyms != nil {
		for i := range items {
			c.Pseudonyms.Scrub(&items[i])
		}
	}
	// What one event cannot be charged for is decided by Prepare (ledger.Prepare parks it with
	// its reason, an absurd amount included: charge_too_large), so planning a batch of prepared
	// events does not fail on one of them.
	return c.Store.PlanBatch(items, c.Clock.Now())
}

// Commit charges a planned batch in one transaction. Nothing may be acknowledged before it
// returns without error.
func (c *Charging) Commit(ctx context.Context, pb *PlannedBatch) (ledger.BatchPlan, error) {
	if err := c.CommitGroup(ctx, []*PlannedBatch{pb}); err != nil {
		return ledger.BatchPlan{}, err
	}
	return pb.Plan, nil
}

// CommitGroup charges planned batches in one transaction, in order (group commit: the
// ingestion commits together the batches that waited while the one before committed). Nothing
// of them may be acknowledged before it returns without error.
func (c *Charging) CommitGroup(ctx context.Context, pbs []*PlannedBatch) error {
	if err := c.Store.CommitGroup(ctx, pbs); err != nil {
		return err
	}
	var terminated []string
	for _, pb := range pbs {
		if c.Observe != nil {
			c.Observe(pb.Items, pb.Plan)
		}
		for _, account := range terminatedCharged(pb.Items, pb.Plan) {
			if !slices.Contains(terminated, account) {
				terminated = append(terminated, account)
			}
		}
	}
	if len(terminated) > 0 && c.finalUsage != nil {
		// The charges are committed, whatever happens here: an invoice that fails now is issued
		// by the next billing run instead (it invoices every postpaid account's open usage).
		if err := c.finalUsage(ctx, terminated); err != nil && c.Log != nil {
			c.Log.Error("invoice late usage of terminated accounts at once (R13); the next billing run invoices it",
				"accounts", terminated, "err", err)
		}
	}
	return nil
}

// terminatedCharged lists, once each, the terminated postpaid accounts a batch charged for
// traffic of before their termination (ledger.OwedBeforeClosure).
func terminatedCharged(items []ledger.Prepared, plan ledger.BatchPlan) []string {
	var out []string
	for i, p := range items {
		if p.AfterClosure && !p.Prepaid && i < len(plan.Outcomes) && plan.Outcomes[i] == ledger.OutcomeCharged &&
			!slices.Contains(out, p.Event.Account) {
			out = append(out, p.Event.Account)
		}
	}
	return out
}

// ReplayResult counts what a replay did.
type ReplayResult struct {
	Replayed   int            `json:"replayed"`
	Charged    int            `json:"charged"`
	Duplicates int            `json:"duplicates"`
	StillOpen  int            `json:"still_parked"`
	ByReason   map[string]int `json:"still_parked_by_reason"`
}

// Replay charges the parked events (of one reason, or all) whose cause has been fixed; the
// others stay parked with their current reason. R1: parked events are replayable.
func (c *Charging) Replay(ctx context.Context, reason string) (ReplayResult, error) {
	res := ReplayResult{ByReason: map[string]int{}}
	after := int64(0)
	for {
		ds, last, err := c.Store.ParkedDeliveries(ctx, reason, after, ReplayPageSize)
		if err != nil {
			return res, err
		}
		if len(ds) == 0 {
			return res, nil
		}
		after = last
		pb, err := c.Prepare(ds)
		if err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
		plan, err := c.Commit(ctx, pb)
		if err != nil {
			return res, fmt.Errorf("replay: %w", err)
		}
		res.Replayed += len(ds)
		for _, o := range plan.Outcomes {
			switch o {
			case ledger.OutcomeCharged:
				res.Charged++
			case ledger.OutcomeDuplicate:
				res.Duplicates++
			}
		}
		for _, p := range plan.Parked {
			res.StillOpen++
			res.ByReason[string(p.Reason)]++
		}
		if c.Log != nil {
			c.Log.Info("replayed parked events", "page", len(ds), "charged", res.Charged, "still_parked", res.StillOpen)
		}
	}
}
