package billing

import "context"

// OutboxMessage is an outgoing event waiting to be relayed.
type OutboxMessage struct {
	ID      int64
	MsgID   string // the Nats-Msg-Id: stable across relays, unique across databases
	Subject string
	Payload []byte
}

// OutboxStore keeps the notices written with the transactions that caused them, until the relay
// has published them (at least once).
type OutboxStore interface {
	PendingOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
	DeleteOutbox(ctx context.Context, ids []int64) error
	// FailOutbox sets aside a message the NATS server refused for good, with why: it is kept,
	// not published, and no longer holds up the messages after it.
	FailOutbox(ctx context.Context, id int64, reason string) error
	// FailedOutbox counts the messages set aside.
	FailedOutbox(ctx context.Context) (int64, error)
}
