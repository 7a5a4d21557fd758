package sql

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"ledger/ledger"
)

// ChargeBatch commits one batch of prepared usage deliveries in one transaction: it reads what
// the database already holds for their ids, lets the ledger plan the batch (exactly once, R1),
// writes the charges, the batch's journal transaction and balances, parks what cannot be
// charged with its notice in the outbox, and commits. Nothing is acknowledged before this
// returns without error.
func (s *Store) ChargeBatch(ctx context.Context, items []ledger.Prepared, at time.Time) (ledger.BatchPlan, error) {
	var plan ledger.BatchPlan
	err := s.inWrite(ctx, func() error {
		existing, err := s.lookupExisting(ctx, items)
		if err != nil {
			return err
		}
		plan, err = ledger.PlanBatch(items, existing, at)
		if err != nil {
			return err
		}
		return s.writePlan(ctx, plan, at)
	})
	if err != nil {
		return ledger.BatchPlan{}, fmt.Errorf("charge batch of %d: %w", len(items), err)
	}
	return plan, nil
}

func (s *Store) lookupExisting(ctx context.Context, items []ledger.Prepared) (ledger.Existing, error) {
	ex := ledger.Existing{Charged: map[string]uint64{}, Parked: map[ledger.ParkKey]int64{}}
	buf := make([]byte, 0, 32*len(items))
	buf = append(buf, '[')
	n := 0
	for _, p := range items {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, p.Key)
		n++
	}
	buf = append(buf, ']')
	ids := string(buf)
	rows, err := s.stmts["lookupCharged"].QueryContext(ctx, ids)
	if err != nil {
		return ex, fmt.Errorf("look up charged ids: %w", err)
	}
	for rows.Next() {
		var id string
		var hash int64
		if err := rows.Scan(&id, &hash); err != nil {
			rows.Close()
			return ex, err
		}
		ex.Charged[id] = uint64(hash)
	}
	if err := rows.Close(); err != nil {
		return ex, err
	}
	rows, err = s.stmts["lookupParked"].QueryContext(ctx, ids)
	if err != nil {
		return ex, fmt.Errorf("look up parked ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hash int64
		var key string
		if err := rows.Scan(&id, &key, &hash); err != nil {
			return ex, err
		}
		ex.Parked[ledger.ParkKey{Key: key, Hash: uint64(hash)}] = id
	}
	return ex, rows.Err()
}

func (s *Store) writePlan(ctx context.Context, plan ledger.BatchPlan, at time.Time) error {
	now := fmtTime(at)
	if tx := plan.Transaction; tx != nil {
		res, err := s.stmts["insertTransaction"].ExecContext(ctx, tx.Kind, fmtTime(tx.At), tx.Events, tx.Memo, "ingest")
		if err != nil {
			return fmt.Errorf("insert transaction: %w", err)
		}
		txID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := s.writeEntries(ctx, txID, tx.Entries); err != nil {
			return err
		}
		if err := s.writeCharges(ctx, txID, plan.Charges, now); err != nil {
			return err
		}
	}
	for _, p := range plan.Parked {
		if p.ParkedID != 0 {
			if _, err := s.stmts["reparkRejected"].ExecContext(ctx, string(p.Reason), p.Detail, p.ParkedID); err != nil {
				return fmt.Errorf("update parked %d: %w", p.ParkedID, err)
			}
			if p.ParkedReason == string(p.Reason) {
				continue // still parked for the same reason: announced already
			}
		} else if _, err := s.stmts["insertRejected"].ExecContext(ctx, p.Key, int64(p.Hash), p.Event.Account,
			string(p.Reason), p.Detail, p.Subject, p.Data, now); err != nil {
			return fmt.Errorf("park event %q: %w", p.Key, err)
		}
		if err := s.appendOutbox(ctx, ledger.RejectedNotice(p, at), now); err != nil {
			return err
		}
	}
	for _, r := range plan.Resolved {
		if _, err := s.stmts["resolveRejected"].ExecContext(ctx, now, string(r.Outcome), r.ParkedID); err != nil {
			return fmt.Errorf("resolve parked %d: %w", r.ParkedID, err)
		}
	}
	return nil
}

// writeEntries inserts a transaction's entries and adds them to the balances.
func (s *Store) writeEntries(ctx context.Context, txID int64, entries []ledger.Entry) error {
	if err := (ledger.Transaction{Entries: entries}).CheckBalanced(); err != nil {
		return err
	}
	entryRows := make([]byte, 0, 64*len(entries))
	balanceRows := make([]byte, 0, 48*len(entries))
	entryRows = append(entryRows, '[')
	balanceRows = append(balanceRows, '[')
	for i, e := range entries {
		if i > 0 {
			entryRows = append(entryRows, ',')
			balanceRows = append(balanceRows, ',')
		}
		entryRows = append(entryRows, '[')
		entryRows = appendJSONString(entryRows, e.LedgerAccount)
		entryRows = append(entryRows, ',')
		entryRows = appendNullableString(entryRows, e.AccountID)
		entryRows = append(entryRows, ',')
		entryRows = strconv.AppendInt(entryRows, int64(e.Amount), 10)
		entryRows = append(entryRows, ',')
		entryRows = strconv.AppendInt(entryRows, int64(e.Events), 10)
		entryRows = append(entryRows, ']')

		balanceRows = append(balanceRows, '[')
		balanceRows = appendJSONString(balanceRows, e.LedgerAccount)
		balanceRows = append(balanceRows, ',')
		balanceRows = appendNullableString(balanceRows, e.AccountID)
		balanceRows = append(balanceRows, ',')
		balanceRows = strconv.AppendInt(balanceRows, int64(e.Amount), 10)
		balanceRows = append(balanceRows, ']')
	}
	entryRows = append(entryRows, ']')
	balanceRows = append(balanceRows, ']')
	if _, err := s.stmts["insertEntries"].ExecContext(ctx, txID, string(entryRows)); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	if _, err := s.stmts["addBalances"].ExecContext(ctx, string(balanceRows)); err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	return nil
}

func (s *Store) writeCharges(ctx context.Context, txID int64, charges []ledger.Charge, now string) error {
	rows := make([]byte, 0, 160*len(charges))
	rows = append(rows, '[')
	invalidCallerID := map[string]int{}
	for i, c := range charges {
		if i > 0 {
			rows = append(rows, ',')
		}
		e := c.Event
		var prefix, country string
		if len(c.Rating.Charges) > 0 {
			prefix, country = c.Rating.Charges[0].Prefix, c.Rating.Charges[0].Country
		}
		invalid := 0
		if c.Rating.InvalidCallerID {
			invalid = 1
			invalidCallerID[e.Account]++
		}
		rows = append(rows, '[')
		rows = appendJSONString(rows, e.ID)
		rows = append(rows, ',')
		rows = strconv.AppendInt(rows, int64(c.Hash), 10)
		for _, f := range []string{e.Account, e.Channel, e.Product, e.Direction, prefix, country} {
			rows = append(rows, ',')
			rows = appendJSONString(rows, f)
		}
		for _, n := range []int64{e.Quantity, c.Rating.BilledQuantity, int64(c.BaseMicros), int64(c.SurchargeMicros), int64(invalid), e.OccurredAt.UnixNano()} {
			rows = append(rows, ',')
			rows = strconv.AppendInt(rows, n, 10)
		}
		rows = append(rows, ']')
		if c.ParkedID != 0 {
			if _, err := s.stmts["resolveRejected"].ExecContext(ctx, now, string(ledger.OutcomeCharged), c.ParkedID); err != nil {
				return fmt.Errorf("resolve parked %d: %w", c.ParkedID, err)
			}
		}
	}
	rows = append(rows, ']')
	if _, err := s.stmts["insertCharges"].ExecContext(ctx, txID, string(rows)); err != nil {
		return fmt.Errorf("insert charges: %w", err)
	}
	// SST 6.3: calls without a correct caller ID are counted per account.
	for account, n := range invalidCallerID {
		if _, err := s.stmts["countInvalidCallerID"].ExecContext(ctx, n, account); err != nil {
			return fmt.Errorf("count invalid caller IDs: %w", err)
		}
	}
	return nil
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD (ids are checked
// to be valid UTF-8 before they get here).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}
