package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ledger/billing"
	"ledger/ledger"
)

// Ingestion limits and defaults.
const (
	// PullExpiry is how long one pull request of the consumer lasts. Now and then a pull
	// request gets nothing delivered until it expires, in ledgerbench's raw ceiling (fetch and
	// ack only) as much as in the ledger. With the client's default of 30 s, 7 of 60 runs of
	// 1,000,000 events stalled for 30 s (measured 2026-11-25). With 5 s, the stalls seen (2 of 30
	// runs of 500,000 events) lasted 5 s, and throughput was unchanged. With 1 s (2026-12-07, 12
	// alternating runs of 300,000 events, 6 at each setting): one stall of 5 s in the 5 s runs,
	// one of 1 s in the 1 s runs, the same throughput otherwise. The cost is one request a second
	// when idle (and the client's idle heartbeat every 0.5 s: half the expiry). 1 s is the
	// least the NATS client takes ("expires value must be at least 1s").
	PullExpiry       = 1 * time.Second
	DefaultBatchSize = 5000
	MaxBatchSize     = 10_000
	// DefaultGroupBatches is how many batches, at most, commit in one transaction when they
	// are waiting for the database (group commit); MaxGroupBatches bounds the setting.
	DefaultGroupBatches = 4
	MaxGroupBatches     = 16
	// DefaultBatchWait is how long a batch waits for more messages once it has one.
	DefaultBatchWait = 5 * time.Millisecond
	// CommitRetryBackoff is the pause before a failed batch commit is tried again; it doubles
	// with each failure up to CommitRetryBackoffMax (a database that is away is not hammered).
	CommitRetryBackoff    = 250 * time.Millisecond
	CommitRetryBackoffMax = 4 * time.Second
	// DrainTimeout bounds how long stopping may take to finish the batch in flight.
	DrainTimeout = 30 * time.Second
	// PendingInterval is how often ledger_ingest_pending_messages is refreshed.
	PendingInterval = 2 * time.Second
)

// Ingestor consumes USAGE and charges it, batch by batch.
type Ingestor struct {
	Consumer  jetstream.Consumer
	Charger   *billing.Charging
	Metrics   *Metrics // may be nil
	BatchSize int
	BatchWait time.Duration
	// GroupBatches is how many prepared batches, at most, commit together in one transaction
	// when they have been waiting for the database (group commit; 0: DefaultGroupBatches, 1:
	// each batch alone). A batch never waits to be grouped: the commit stage takes what is
	// ready when it is free. Grouping only happens when the database is the slower stage, and
	// there it saves what is written per batch (one journal entry and balance update per
	// ledger account touched, the COMMIT). The cost is memory: up to GroupBatches batches wait.
	GroupBatches int
	Log          *slog.Logger
	// AfterCommit, when set, is called after each batch commits and before it is acknowledged;
	// returning false leaves the batch unacknowledged, as a crash at that instant would. Tests
	// use it to prove that a crash between commit and ack charges nothing twice.
	AfterCommit func(events int) (ack bool)
	// Refresh, when set, brings the credit book up to what other instances wrote before each
	// batch is prepared (Store.Refresh).
	Refresh func(ctx context.Context) error

	running atomic.Bool
}

// Running reports whether the consumer is attached and consuming (readiness).
func (in *Ingestor) Running() bool { return in.running.Load() }

type batch struct {
	msgs    []jetstream.Msg
	planned *billing.PlannedBatch
	err     error // planning failed (a bug): the batch is not acknowledged and comes again
}

// Run consumes until ctx is cancelled, then finishes the batch in flight (commit and ack),
// gives back what it had not started (nak, so it is redelivered at once to the next run) and
// returns. It returns an error only when it cannot consume at all.
func (in *Ingestor) Run(ctx context.Context) error {
	size := in.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	if size > MaxBatchSize {
		size = MaxBatchSize
	}
	wait := in.BatchWait
	if wait <= 0 {
		wait = DefaultBatchWait
	}
	incoming := make(chan jetstream.Msg, size)
	stopping := make(chan struct{})
	cc, err := in.Consumer.Consume(func(m jetstream.Msg) {
		// A message a callback: the room there usually is goes without a select over both.
		select {
		case incoming <- m:
			return
		default:
		}
		select {
		case incoming <- m:
		case <-stopping:
			_ = m.Nak()
		}
	}, jetstream.PullMaxMessages(size), jetstream.PullExpiry(PullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if in.Log != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			in.Log.Warn("usage consumer", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", UsageStream, err)
	}
	in.running.Store(true)
	defer in.running.Store(false)

	group := in.GroupBatches
	if group <= 0 {
		group = DefaultGroupBatches
	}
	group = min(group, MaxGroupBatches)
	// Three stages: gather and prepare → commit → acknowledge. Prepared batches wait for the
	// commit stage (up to group-1 of them, all committed together when it is free); the others
	// hand on at most one ahead, so memory stays bounded whatever the stream holds.
	prepared := make(chan batch, max(1, group-1))
	committed := make(chan committedBatch, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(prepared)
		in.gather(ctx, incoming, prepared, size, wait)
	}()
	go func() {
		defer wg.Done()
		for c := range committed {
			c.acknowledge(in.Metrics)
		}
	}()
	for b := range prepared {
		bs := []batch{b}
	waiting:
		for len(bs) < group {
			select {
			case b, ok := <-prepared:
				if !ok {
					break waiting
				}
				bs = append(bs, b)
			default:
				break waiting
			}
		}
		if c, ok := in.commit(bs); ok {
			committed <- c
		}
	}
	close(committed)
	close(stopping)
	cc.Stop()
	wg.Wait()
	for {
		select {
		case m := <-incoming:
			_ = m.Nak()
		default:
			return nil
		}
	}
}

// gather collects batches from incoming and prepares them, until ctx is cancelled.
func (in *Ingestor) gather(ctx context.Context, incoming <-chan jetstream.Msg, out chan<- batch, size int, wait time.Duration) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var ds []ledger.Delivery
	for {
		var msgs []jetstream.Msg
		select {
		case <-ctx.Done():
			return
		case m := <-incoming:
			msgs = append(make([]jetstream.Msg, 0, size), m)
		}
		timer.Reset(wait)
	collect:
		for len(msgs) < size {
			// What has arrived is taken without a select over three channels (one a message).
			select {
			case m := <-incoming:
				msgs = append(msgs, m)
				continue
			default:
			}
			select {
			case m := <-incoming:
				msgs = append(msgs, m)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if in.Refresh != nil {
			// Another instance may have opened an account these events are for (docs/scaling.md).
			if err := in.Refresh(ctx); err != nil && in.Log != nil && ctx.Err() == nil {
				in.Log.Warn("read what other instances wrote before charging", "err", err)
			}
		}
		// ds is the same array batch after batch: Prepare keeps nothing of it.
		ds = slices.Grow(ds[:0], len(msgs))[:len(msgs)]
		for i, m := range msgs {
			ds[i] = ledger.Delivery{Subject: m.Subject(), Data: m.Data()}
		}
		planned, err := in.Charger.Prepare(ds)
		clear(ds) // nor keeps alive the messages' bodies
		out <- batch{msgs: msgs, planned: planned, err: err}
	}
}

// committedBatch is a group of batches whose transaction has committed, to be acknowledged.
type committedBatch struct {
	msgs    []jetstream.Msg
	batches int
	start   time.Time
}

func (c committedBatch) acknowledge(m *Metrics) {
	for _, msg := range c.msgs {
		_ = msg.Ack()
	}
	if m != nil {
		d := time.Since(c.start).Seconds()
		for range c.batches {
			m.BatchDuration.Observe(d)
		}
		m.CommitGroup.Observe(float64(c.batches))
	}
}

// commit charges a group of batches in one transaction, retrying until it succeeds or the
// drain time runs out; it reports whether the group may be acknowledged. A message is never
// acknowledged before its batch has committed. A batch whose planning failed is given back
// (nak) on its own; the others commit.
func (in *Ingestor) commit(bs []batch) (committedBatch, bool) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	var pbs []*billing.PlannedBatch
	var msgs []jetstream.Msg
	for _, b := range bs {
		if b.err != nil {
			if in.Log != nil {
				in.Log.Error("plan usage batch; it will be redelivered", "events", len(b.msgs), "err", b.err)
			}
			for _, m := range b.msgs {
				_ = m.Nak()
			}
			continue
		}
		pbs = append(pbs, b.planned)
		msgs = append(msgs, b.msgs...)
	}
	if len(pbs) == 0 {
		return committedBatch{}, false
	}
	backoff := CommitRetryBackoff
	for attempt := 1; ; attempt++ {
		err := in.Charger.CommitGroup(ctx, pbs)
		if err == nil {
			break
		}
		if in.Log != nil {
			in.Log.Error("commit usage batches; retrying", "batches", len(pbs), "events", len(msgs), "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			// Not acknowledged: JetStream redelivers the batches, and charging them then is safe.
			for _, m := range msgs {
				_ = m.Nak()
			}
			return committedBatch{}, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, CommitRetryBackoffMax)
	}
	if in.AfterCommit != nil && !in.AfterCommit(len(msgs)) {
		return committedBatch{}, false
	}
	return committedBatch{msgs: msgs, batches: len(pbs), start: start}, true
}

// WatchPending refreshes ledger_ingest_pending_messages until ctx is cancelled.
func WatchPending(ctx context.Context, cons jetstream.Consumer, m *Metrics) {
	t := time.NewTicker(PendingInterval)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, PendingInterval)
		if n, err := Pending(qctx, cons); err == nil {
			m.Pending.Set(float64(n))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
