package sql

import (
	"context"
	"fmt"

	"ledger/billing"
	"ledger/ledger"
)

// ParkedCounts counts the open parked events by reason (billing.ParkedStore).
func (s *Store) ParkedCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT reason, count(*) FROM rejected WHERE resolved_at IS NULL GROUP BY reason`)
	if err != nil {
		return nil, fmt.Errorf("count parked events: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, err
		}
		out[reason] = n
	}
	return out, rows.Err()
}

// Rejected lists the open parked events, oldest first, optionally of one reason, after a cursor.
func (s *Store) Rejected(ctx context.Context, reason string, afterID int64, limit int) ([]billing.RejectedView, error) {
	q := `SELECT id, event_key, account_id, reason, detail, subject, payload, parked_at, replays, content_hash, coalesce(pseudonym, '') FROM rejected
		WHERE resolved_at IS NULL AND id > ?`
	args := []any{afterID}
	if reason != "" {
		q += ` AND reason = ?`
		args = append(args, reason)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list parked events: %w", err)
	}
	defer rows.Close()
	var out []billing.RejectedView
	for rows.Next() {
		var r billing.RejectedView
		var at string
		var hash int64
		if err := rows.Scan(&r.ID, &r.EventID, &r.Account, &r.Reason, &r.Detail, &r.Subject, &r.Payload, &at, &r.Replays, &hash, &r.Pseudonym); err != nil {
			return nil, err
		}
		if r.ParkedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		r.Hash = uint64(hash)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ParkedDeliveries returns open parked events as deliveries to replay.
func (s *Store) ParkedDeliveries(ctx context.Context, reason string, afterID int64, limit int) ([]ledger.Delivery, int64, error) {
	views, err := s.Rejected(ctx, reason, afterID, limit)
	if err != nil {
		return nil, afterID, err
	}
	out := make([]ledger.Delivery, len(views))
	last := afterID
	for i, v := range views {
		out[i] = ledger.Delivery{Subject: v.Subject, Data: v.Payload, ParkedID: v.ID, ParkedReason: v.Reason,
			ParkedHash: v.Hash, Pseudonym: v.Pseudonym}
		last = v.ID
	}
	return out, last, nil
}
