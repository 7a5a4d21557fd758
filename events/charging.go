package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"ledger/billing"
	"ledger/clock"
	"ledger/ledger"
	"ledger/pricing"
)

// ReplayPageSize bounds how many parked events one replay transaction takes.
const ReplayPageSize = 500

// BatchStore plans and commits batches and gives back parked events for replay.
type BatchStore interface {
	billing.ChargeStore
	billing.ParkedStore
}

// Charger turns deliveries into charges: the part of ingestion that does not depend on where the
// events come from, shared by the consumer and by replay.
type Charger struct {
	Store    BatchStore
	Accounts *ledger.CreditBook
	Clock    clock.Clock
	Metrics  *Metrics
	Log      *slog.Logger

	tariffs atomic.Pointer[pricing.Tariffs]
}

// SetTariffs installs the tariffs used from the next event on.
func (c *Charger) SetTariffs(t *pricing.Tariffs) { c.tariffs.Store(t) }

// Tariffs returns the tariffs in use.
func (c *Charger) Tariffs() *pricing.Tariffs { return c.tariffs.Load() }

// Prepare decodes, validates, rates and plans deliveries as one batch (no database).
func (c *Charger) Prepare(ds []ledger.Delivery) (*billing.PlannedBatch, error) {
	rater := c.tariffs.Load()
	items := make([]ledger.Prepared, len(ds))
	c.Accounts.View(func(accounts ledger.AccountDirectory) {
		for i, d := range ds {
			items[i] = ledger.Prepare(d, accounts, rater)
		}
	})
	return c.Store.PlanBatch(items, c.Clock.Now())
}

// Commit charges a planned batch in one transaction and counts the outcomes.
func (c *Charger) Commit(ctx context.Context, pb *billing.PlannedBatch) (ledger.BatchPlan, error) {
	plan, err := c.Store.Commit(ctx, pb)
	if err != nil {
		return plan, err
	}
	items := pb.Items
	if c.Metrics != nil {
		type series struct{ channel, outcome string }
		counts := make(map[series]int, 8)
		for i, p := range items {
			counts[series{channelLabel(p), string(plan.Outcomes[i])}]++
		}
		for s, n := range counts {
			c.Metrics.UsageEvents.WithLabelValues(s.channel, s.outcome).Add(float64(n))
		}
		invalid := 0
		for _, ch := range plan.Charges {
			if ch.Rating.InvalidCallerID {
				invalid++
			}
		}
		c.Metrics.InvalidCallerID.Add(float64(invalid))
	}
	return plan, nil
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
func (c *Charger) Replay(ctx context.Context, reason string) (ReplayResult, error) {
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
