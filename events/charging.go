package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"ledger/clock"
	"ledger/ledger"
	"ledger/pricing"
)

// ReplayPageSize bounds how many parked events one replay transaction takes.
const ReplayPageSize = 500

// BatchStore commits prepared batches; *sql.Store is one.
type BatchStore interface {
	ChargeBatch(ctx context.Context, items []ledger.Prepared, at time.Time) (ledger.BatchPlan, error)
	ParkedDeliveries(ctx context.Context, reason string, afterID int64, limit int) ([]ledger.Delivery, int64, error)
}

// Charger turns deliveries into charges: the part of ingestion that does not depend on where the
// events come from, shared by the consumer and by replay.
type Charger struct {
	Store    BatchStore
	Accounts ledger.AccountDirectory
	Clock    clock.Clock
	Metrics  *Metrics
	Log      *slog.Logger
	// Parked is called after a commit that parked events, to wake the outbox relay.
	Parked func()

	tariffs atomic.Pointer[pricing.Tariffs]
}

// SetTariffs installs the tariffs used from the next event on.
func (c *Charger) SetTariffs(t *pricing.Tariffs) { c.tariffs.Store(t) }

// Tariffs returns the tariffs in use.
func (c *Charger) Tariffs() *pricing.Tariffs { return c.tariffs.Load() }

// Prepare decodes, validates and rates deliveries (no database).
func (c *Charger) Prepare(ds []ledger.Delivery) []ledger.Prepared {
	rater := c.tariffs.Load()
	out := make([]ledger.Prepared, len(ds))
	for i, d := range ds {
		out[i] = ledger.Prepare(d, c.Accounts, rater)
	}
	return out
}

// Commit charges a prepared batch in one transaction and counts the outcomes.
func (c *Charger) Commit(ctx context.Context, items []ledger.Prepared) (ledger.BatchPlan, error) {
	plan, err := c.Store.ChargeBatch(ctx, items, c.Clock.Now())
	if err != nil {
		return plan, err
	}
	if c.Metrics != nil {
		for i, p := range items {
			c.Metrics.UsageEvents.WithLabelValues(channelLabel(p), string(plan.Outcomes[i])).Inc()
		}
		for _, ch := range plan.Charges {
			if ch.Rating.InvalidCallerID {
				c.Metrics.InvalidCallerID.Inc()
			}
		}
	}
	if len(plan.Parked) > 0 && c.Parked != nil {
		c.Parked()
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
		plan, err := c.Commit(ctx, c.Prepare(ds))
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
