package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ledger/billing"
	"ledger/ledger"
)

func (s *Store) appendOutbox(ctx context.Context, n ledger.Notice, now string) error {
	if err := s.later(ctx, "insertOutbox", n.Subject, n.Payload, now); err != nil {
		return fmt.Errorf("outbox %s: %w", n.Subject, err)
	}
	s.wroteOutbox = true
	return nil
}

// PendingOutbox returns up to limit outgoing events in the order they were written.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]billing.OutboxMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, subject, payload FROM outbox ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []billing.OutboxMessage
	for rows.Next() {
		var m billing.OutboxMessage
		if err := rows.Scan(&m.ID, &m.Subject, &m.Payload); err != nil {
			return nil, err
		}
		m.MsgID = fmt.Sprintf("ledger-%s-%d", s.instance, m.ID)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteOutbox removes relayed events.
func (s *Store) DeleteOutbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, id)
	}
	b.WriteByte(']')
	return s.inWrite(ctx, func() error {
		_, err := s.stmts["deleteOutbox"].ExecContext(ctx, b.String())
		return err
	})
}

// FailOutbox moves a message the NATS server refused for good into outbox_failed, with the
// reason, in one transaction (billing.OutboxStore).
func (s *Store) FailOutbox(ctx context.Context, id int64, reason string) error {
	return s.inWrite(ctx, func() error {
		if _, err := s.write.ExecContext(ctx, `INSERT INTO outbox_failed(id, subject, payload, created_at, failed_at, error)
			SELECT id, subject, payload, created_at, ?, ? FROM outbox WHERE id = ?`, fmtTime(time.Now()), reason, id); err != nil {
			return fmt.Errorf("set outbox message %d aside: %w", id, err)
		}
		_, err := s.write.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id)
		return err
	})
}

// FailedOutbox counts the messages set aside (billing.OutboxStore).
func (s *Store) FailedOutbox(ctx context.Context) (n int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox_failed`).Scan(&n)
	return n, err
}
