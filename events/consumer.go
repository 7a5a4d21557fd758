package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ledger/ledger"
)

// Ingestion limits and defaults.
const (
	DefaultBatchSize = 1000
	MaxBatchSize     = 10_000
	// DefaultBatchWait is how long a batch waits for more messages once it has one.
	DefaultBatchWait = 5 * time.Millisecond
	// CommitRetryBackoff is the pause before a failed batch commit is tried again.
	CommitRetryBackoff = time.Second
	// DrainTimeout bounds how long stopping may take to finish the batch in flight.
	DrainTimeout = 30 * time.Second
	// PendingInterval is how often ledger_ingest_pending_messages is refreshed.
	PendingInterval = 2 * time.Second
)

// Ingestor consumes USAGE and charges it, batch by batch.
type Ingestor struct {
	Consumer  jetstream.Consumer
	Charger   *Charger
	BatchSize int
	BatchWait time.Duration
	Log       *slog.Logger
	// AfterCommit, when set, is called after each batch commits and before it is acknowledged;
	// returning false leaves the batch unacknowledged, as a crash at that instant would. Tests
	// use it to prove that a crash between commit and ack charges nothing twice.
	AfterCommit func(events int) (ack bool)

	running atomic.Bool
}

// Running reports whether the consumer is attached and consuming (readiness).
func (in *Ingestor) Running() bool { return in.running.Load() }

type batch struct {
	msgs  []jetstream.Msg
	items []ledger.Prepared
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
	incoming := make(chan jetstream.Msg, 2*size)
	stopping := make(chan struct{})
	cc, err := in.Consumer.Consume(func(m jetstream.Msg) {
		select {
		case incoming <- m:
		case <-stopping:
			_ = m.Nak()
		}
	}, jetstream.PullMaxMessages(2*size), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if in.Log != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			in.Log.Warn("usage consumer", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", UsageStream, err)
	}
	in.running.Store(true)
	defer in.running.Store(false)

	prepared := make(chan batch, 1) // one batch prepared while the previous one commits
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(prepared)
		in.gather(ctx, incoming, prepared, size, wait)
	}()

	for b := range prepared {
		in.commit(b)
	}
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
		ds := make([]ledger.Delivery, len(msgs))
		for i, m := range msgs {
			ds[i] = ledger.Delivery{Subject: m.Subject(), Data: m.Data()}
		}
		out <- batch{msgs: msgs, items: in.Charger.Prepare(ds)}
	}
}

// commit charges one batch and acknowledges it, retrying the commit until it succeeds or the
// drain time runs out: a message is never acknowledged before its batch has committed.
func (in *Ingestor) commit(b batch) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		_, err := in.Charger.Commit(ctx, b.items)
		if err == nil {
			break
		}
		if in.Log != nil {
			in.Log.Error("commit usage batch; retrying", "events", len(b.items), "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			// Not acknowledged: JetStream redelivers the batch, and charging it then is safe.
			for _, m := range b.msgs {
				_ = m.Nak()
			}
			return
		case <-time.After(CommitRetryBackoff):
		}
	}
	if in.AfterCommit != nil && !in.AfterCommit(len(b.items)) {
		return
	}
	for _, m := range b.msgs {
		_ = m.Ack()
	}
	if in.Charger.Metrics != nil {
		in.Charger.Metrics.BatchDuration.Observe(time.Since(start).Seconds())
	}
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
