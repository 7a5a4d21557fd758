package billing

import (
	"context"
	"ledger/ledger"
	"time"
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
// most once, the batch's journal transaction balances, and nothing is acknowledged before
// Commit returns without error.
type ChargeStore interface {
	PlanBatch(items []ledger.Prepared, at time.Time) (*PlannedBatch, error)
	Commit(ctx context.Context, pb *PlannedBatch) (ledger.BatchPlan, error)
}

// ParkedStore keeps the events that could not be charged, with their reason, for replay.
type ParkedStore interface {
	Rejected(ctx context.Context, reason string, afterID int64, limit int) ([]RejectedView, error)
	ParkedDeliveries(ctx context.Context, reason string, afterID int64, limit int) ([]ledger.Delivery, int64, error)
}
