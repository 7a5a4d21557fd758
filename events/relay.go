package events

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"ledger/billing"
)

// Relay limits.
const (
	RelayPageSize     = 256
	RelayPollInterval = time.Second
	RelayPublishWait  = 10 * time.Second
)

// Relay publishes the outbox to the BILLING stream after commit, each message with a stable
// Nats-Msg-Id so that a relay interrupted between publishing and deleting does not publish twice
// within the duplicate window. A crash can neither lose an event (it stays in the outbox until
// JetStream has acknowledged it) nor invent one (only committed rows are relayed).
type Relay struct {
	Store billing.OutboxStore
	JS    jetstream.JetStream
	Log   *slog.Logger
	// Failed counts the messages set aside as undeliverable (nil: not counted).
	Failed prometheus.Counter
	wake   chan struct{}
}

// refusedForGood reports whether a publish failed in a way a retry cannot mend: the message is
// larger than the server or the stream takes, or the stream refused it (a 4xx API error);
// timeouts, lost connections and a server without JetStream for a moment are retried.
func refusedForGood(err error) bool {
	if errors.Is(err, nats.ErrMaxPayload) {
		return true
	}
	var api *jetstream.APIError
	return errors.As(err, &api) && api.Code >= 400 && api.Code < 500
}

// NewRelay returns a relay.
func NewRelay(store billing.OutboxStore, js jetstream.JetStream, log *slog.Logger) *Relay {
	return &Relay{Store: store, JS: js, Log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the relay to look at the outbox now.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is cancelled, then makes one last pass.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(RelayPollInterval)
	defer t.Stop()
	for {
		r.Flush(ctx)
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), RelayPublishWait)
			r.Flush(fctx)
			cancel()
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Flush publishes everything in the outbox; it returns how many it relayed.
func (r *Relay) Flush(ctx context.Context) int {
	total := 0
	for {
		msgs, err := r.Store.PendingOutbox(ctx, RelayPageSize)
		if err != nil || len(msgs) == 0 {
			if err != nil && r.Log != nil && ctx.Err() == nil {
				r.Log.Warn("read outbox", "err", err)
			}
			return total
		}
		var done []int64
		aside := 0 // set aside for good: handled, not published
		for _, m := range msgs {
			nm := nats.NewMsg(m.Subject)
			nm.Data = m.Payload
			nm.Header.Set(jetstream.MsgIDHeader, m.MsgID)
			pctx, cancel := context.WithTimeout(ctx, RelayPublishWait)
			_, err := r.JS.PublishMsg(pctx, nm)
			cancel()
			if err != nil && refusedForGood(err) {
				// Retrying would fail the same way, ahead of every notice after it.
				if ferr := r.Store.FailOutbox(context.Background(), m.ID, err.Error()); ferr != nil {
					if r.Log != nil {
						r.Log.Warn("set an undeliverable outgoing event aside", "subject", m.Subject, "err", ferr)
					}
					break
				}
				if r.Log != nil {
					r.Log.Error("outgoing event refused by NATS for good: set aside in outbox_failed, not published",
						"subject", m.Subject, "bytes", len(m.Payload), "err", err)
				}
				if r.Failed != nil {
					r.Failed.Inc()
				}
				aside++
				continue
			}
			if err != nil {
				if r.Log != nil && ctx.Err() == nil {
					r.Log.Warn("publish outgoing event; will retry", "subject", m.Subject, "err", err)
				}
				break
			}
			done = append(done, m.ID)
		}
		if err := r.Store.DeleteOutbox(context.Background(), done); err != nil && r.Log != nil {
			r.Log.Warn("delete relayed outbox rows", "err", err)
			return total
		}
		total += len(done)
		if len(done)+aside < len(msgs) { // stopped early: the rest waits for the next pass
			return total
		}
	}
}
