package sql

import (
	"context"
	"fmt"

	"ledger/billing"
)

// The audit trail (CONTRACT 3.10; migrations 0008): append-only, in order. The store has no
// statement that changes or deletes a record, and the table's triggers refuse any.

const insertAudit = `INSERT INTO audit(at, actor, role, method, path, account_id, status) VALUES (?, ?, ?, ?, ?, ?, ?)`

// recordAuditIn writes the audit record ctx carries, if any, in the transaction in progress:
// the change and its record commit together.
func (s *Store) recordAuditIn(ctx context.Context) error {
	r := billing.AuditOf(ctx)
	if r == nil {
		return nil
	}
	if err := s.writeAudit(ctx, r.Entry()); err != nil {
		return err
	}
	s.onCommit(func() { r.Written = true })
	return nil
}

func (s *Store) writeAudit(ctx context.Context, e billing.AuditEntry) error {
	if _, err := s.write.ExecContext(ctx, insertAudit, fmtTime(e.At), e.Actor, e.Role, e.Method, e.Path, e.Account, e.Status); err != nil {
		return fmt.Errorf("record the audit entry: %w", err)
	}
	return nil
}

// RecordAudit appends a record in a transaction of its own (billing.AuditStore).
func (s *Store) RecordAudit(ctx context.Context, e billing.AuditEntry) error {
	return s.inWrite(ctx, func() error { return s.writeAudit(ctx, e) })
}

// Audit lists the records after seq, of one account when account is not "", oldest first
// (billing.AuditStore).
func (s *Store) Audit(ctx context.Context, after int64, account string, limit int) ([]billing.AuditEntry, error) {
	q := `SELECT seq, at, actor, role, method, path, account_id, status FROM audit WHERE seq > ?`
	args := []any{after}
	if account != "" {
		q += ` AND account_id = ?`
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	defer rows.Close()
	var out []billing.AuditEntry
	for rows.Next() {
		var e billing.AuditEntry
		var at instant
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Method, &e.Path, &e.Account, &e.Status); err != nil {
			return nil, err
		}
		e.At = at.Time
		out = append(out, e)
	}
	return out, rows.Err()
}
