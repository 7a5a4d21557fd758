package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the streams and the consumer (CONTRACT 2, 5).
const (
	UsageStream   = "USAGE"
	UsageSubjects = "usage.>"
	BillingStream = "BILLING"
	// ConsumerName is the durable consumer through which the ledger charges usage.
	ConsumerName = "ledger"
)

// BillingSubjects are the subjects of the BILLING stream: every event of CONTRACT 5 (all under
// billing.>), but not the request–reply subject billing.authorize (CONTRACT 3.4) — a stream on
// billing.> would store every authorisation request and answer it with a publish acknowledgement
// that races the real answer.
var BillingSubjects = []string{"billing.credit.>", "billing.account.>", "billing.prepaid.>", "billing.invoice.>", "billing.usage.>"}

// Stream settings.
const (
	// DuplicateWindow is JetStream's Nats-Msg-Id window; the ledger's own unique event ids
	// make exactly-once hold beyond it.
	DuplicateWindow = 10 * time.Minute
	// DefaultUsageMaxAge is how long usage messages stay in the stream after they arrive. They
	// hold numbers in clear (R14: kept no longer than needed): long enough for a redelivery, a
	// restart and a weekend's outage to be charged, no longer. A ledger down longer loses what
	// arrived before (raise --usage-max-age before a long maintenance).
	DefaultUsageMaxAge = 48 * time.Hour
	// AckWait is how long a delivered, unacknowledged message waits before redelivery: after a
	// crash, what was in flight comes back this long after it was delivered. A batch commits in
	// well under a second; a redelivery is harmless (recognised as a duplicate), a long wait after
	// a restart is not.
	AckWait = 15 * time.Second
	// MaxAckPending bounds the messages delivered and not yet acknowledged, unless a larger
	// commit group needs more (InFlight).
	MaxAckPending = 20_000
)

// InFlight is how many usage messages the consumer lets be delivered and not yet acknowledged
// for an ingestor of batches of batch events committing up to group of them together: a whole
// group, and never fewer than MaxAckPending. The batches that commit together are those that
// waited while the group before them committed, so a larger --commit-group needs a larger
// window to form at all (issue 19, with the NATS server apart and PostgreSQL: --commit-group 8
// and 40,000 in flight wrote 0.47 journal entries per event against 0.65, and charged 80.7k and
// 84.8k events/s against 73.7k and 74.9k; the README's benchmark section). Memory grows with it:
// every message in flight is held, prepared, until its batch commits.
func InFlight(batch, group int) int {
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	if group <= 0 {
		group = DefaultGroupBatches
	}
	return max(MaxAckPending, min(batch, MaxBatchSize)*min(group, MaxGroupBatches))
}

// MaxReplicas is the most copies of a stream the ledger asks for by default: three survive the
// loss of one NATS node with a majority left.
const MaxReplicas = 3

// Replicas is how many copies of each stream to keep: asked (--nats-replicas) when above 0,
// else min(MaxReplicas, servers), servers being the NATS servers the connection knows of (the
// URLs given and those the cluster told of).
func Replicas(asked, servers int) int {
	if asked > 0 {
		return asked
	}
	return max(1, min(MaxReplicas, servers))
}

// EnsureStreams creates the USAGE and BILLING streams with replicas copies each, or brings them
// to this configuration.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, usageMaxAge time.Duration, replicas int) error {
	for _, cfg := range []jetstream.StreamConfig{
		{Name: UsageStream, Subjects: []string{UsageSubjects}, Storage: jetstream.FileStorage,
			Retention: jetstream.LimitsPolicy, MaxAge: usageMaxAge, Duplicates: DuplicateWindow,
			Description: "usage events in (CONTRACT 2)", Replicas: replicas},
		{Name: BillingStream, Subjects: BillingSubjects, Storage: jetstream.FileStorage,
			Retention: jetstream.LimitsPolicy, Duplicates: DuplicateWindow,
			Description: "billing events out (CONTRACT 5)", Replicas: replicas},
	} {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s with %d replicas (--nats-replicas): %w", cfg.Name, replicas, err)
		}
	}
	return nil
}

// DatabaseMetadata is the consumer's metadata key that names the database it charges into.
const DatabaseMetadata = "ledger_database"

// Database is what EnsureConsumer needs to know of the database the consumer charges into.
type Database struct {
	// Instance is the database's own random id (it moves with a copy, ledgerctl db copy).
	Instance string
	// Empty: the database holds no charge and no parked event.
	Empty bool
	// Where names it for messages, without a password.
	Where string
}

// ErrForeignDatabase refuses to charge from a consumer into a database other than the one it
// has charged into: the stream's acknowledged events would be missing from it for good.
var ErrForeignDatabase = errors.New("the usage consumer has charged into another database")

// EnsureConsumer creates the durable pull consumer on USAGE, or brings it to this configuration
// (inFlight messages delivered and not acknowledged at most: InFlight; 0: MaxAckPending),
// bound to db: a consumer that has acknowledged events into another database, or into one that
// is now missing or empty, is refused (ErrForeignDatabase) rather than pointed at a ledger
// that lacks what it acknowledged.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, name string, ackWait time.Duration, inFlight int, db Database) (jetstream.Consumer, error) {
	if ackWait <= 0 {
		ackWait = AckWait
	}
	if inFlight <= 0 {
		inFlight = MaxAckPending
	}
	if existing, err := js.Consumer(ctx, UsageStream, name); err == nil {
		info := existing.CachedInfo() // js.Consumer has just fetched it
		bound := info.Config.Metadata[DatabaseMetadata]
		consumed := info.AckFloor.Stream > 0 || info.NumAckPending > 0
		switch {
		case bound != "" && bound != db.Instance:
			return nil, fmt.Errorf("%w: consumer %s on stream %s has charged into the database with instance id %s, and %s is %s. "+
				"Starting would leave the events it acknowledged out of this ledger: point --db at the database it charged into; "+
				"to start a new ledger on purpose, delete the consumer first (nats consumer rm %s %s)",
				ErrForeignDatabase, name, UsageStream, bound, db.Where, db.Instance, UsageStream, name)
		case bound == "" && consumed && db.Empty:
			return nil, fmt.Errorf("%w: consumer %s on stream %s has acknowledged events up to sequence %d, and %s holds no charge "+
				"and no parked event (missing, empty, or another ledger's). Point --db at the database it charged into; "+
				"to start a new ledger on purpose, delete the consumer first (nats consumer rm %s %s)",
				ErrForeignDatabase, name, UsageStream, info.AckFloor.Stream, db.Where, UsageStream, name)
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("consumer %s on %s: %w", name, UsageStream, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, UsageStream, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "the ledger charges usage from here",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: inFlight,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: UsageSubjects,
		MaxDeliver:    -1, // never give up on a message: it is charged or parked, never dropped
		Metadata:      map[string]string{DatabaseMetadata: db.Instance},
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", name, UsageStream, err)
	}
	return cons, nil
}

// Pending returns how many messages wait in the consumer: not yet delivered, or delivered and
// not yet acknowledged.
func Pending(ctx context.Context, cons jetstream.Consumer) (uint64, error) {
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info == nil {
		return 0, errors.New("no consumer info")
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}
