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
}
