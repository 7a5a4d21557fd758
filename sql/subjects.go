package sql

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

// Personal data (R14; migrations 0010): charges and parked events keep the destination's
// pseudonym until the retention job or an erasure sets it to NULL. No index serves the
// pseudonym: a data-subject request is rare and reads the table once, while every charge would
// pay for an index on it.

// SubjectRecords lists the charges, then the parked events, held under pseudonym
// (billing.SubjectStore). The cursor is "c<seq>" within the charges, "p<id>" within the parked.
func (s *Store) SubjectRecords(ctx context.Context, pseudonym, after string, limit int) ([]billing.SubjectView, string, error) {
	var out []billing.SubjectView
	parkedAfter := int64(-1)
	switch {
	case after == "":
		after = "c0"
	case strings.HasPrefix(after, "p"):
		n, err := strconv.ParseInt(after[1:], 10, 64)
		if err != nil {
			return nil, "", ledger.Errorf(ledger.CodeInvalid, "after %q is not a cursor from a previous page's next", after)
		}
		parkedAfter = n
	}
	if parkedAfter < 0 {
		seq, err := strconv.ParseInt(strings.TrimPrefix(after, "c"), 10, 64)
		if err != nil || !strings.HasPrefix(after, "c") {
			return nil, "", ledger.Errorf(ledger.CodeInvalid, "after %q is not a cursor from a previous page's next", after)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT seq, event_id, account_id, occurred_at_ns, rating, amount_micros + surcharge_micros
			FROM charges WHERE pseudonym = ? AND seq > ? ORDER BY seq LIMIT ?`, pseudonym, seq, limit)
		if err != nil {
			return nil, "", fmt.Errorf("read charges of a data subject: %w", err)
		}
		defer rows.Close()
		var last int64
		for rows.Next() {
			var v billing.SubjectView
			var ns, micros int64
			var rating string
			if err := rows.Scan(&last, &v.Event, &v.Account, &ns, &rating, &micros); err != nil {
				return nil, "", err
			}
			var r []any
			if err := json.Unmarshal([]byte(rating), &r); err != nil || len(r) < 5 {
				return nil, "", fmt.Errorf("charge %s: rating %q: %v", v.Event, rating, err)
			}
			v.Channel, v.Prefix, v.Country = fmt.Sprint(r[0]), fmt.Sprint(r[3]), fmt.Sprint(r[4])
			v.OccurredAt, v.Amount = time.Unix(0, ns).UTC(), money.Micros(micros).String()
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			return out, "c" + strconv.FormatInt(last, 10), nil
		}
		parkedAfter = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, event_key, account_id, subject, parked_at FROM rejected
		WHERE pseudonym = ? AND id > ? ORDER BY id LIMIT ?`, pseudonym, parkedAfter, limit-len(out))
	if err != nil {
		return nil, "", fmt.Errorf("read parked events of a data subject: %w", err)
	}
	defer rows.Close()
	var last int64
	n := 0
	for rows.Next() {
		var v billing.SubjectView
		var subject string
		var at instant
		if err := rows.Scan(&last, &v.Event, &v.Account, &subject, &at); err != nil {
			return nil, "", err
		}
		if parts := strings.Split(subject, "."); len(parts) == 3 {
			v.Channel = parts[1]
		}
		v.OccurredAt = at.Time
		out = append(out, v)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(out) == limit && n > 0 {
		return out, "p" + strconv.FormatInt(last, 10), nil
	}
	return out, "", nil
}

// ErasePseudonym removes pseudonym from every charge and parked event (billing.SubjectStore).
func (s *Store) ErasePseudonym(ctx context.Context, pseudonym string) (n int64, err error) {
	err = s.inWrite(ctx, func() error {
		for _, table := range []string{"charges", "rejected"} {
			res, err := s.write.ExecContext(ctx, `UPDATE `+table+` SET pseudonym = NULL WHERE pseudonym = ?`, pseudonym)
			if err != nil {
				return fmt.Errorf("erase a data subject from %s: %w", table, err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}

// ForgetRange is how many charges (by seq) one step of ForgetPseudonyms looks at, in a write
// transaction of its own: ingestion waits for one step at most, not for the whole table.
var ForgetRange int64 = 50_000

// ForgetPseudonyms removes the pseudonyms of the charges that occurred, and of the events
// parked, before before (billing.SubjectStore). The charges are walked by seq, a range at a
// time, from the first range that still held a pseudonym after the last walk of this process.
func (s *Store) ForgetPseudonyms(ctx context.Context, before time.Time) (n int64, err error) {
	var last int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM charges`).Scan(&last); err != nil {
		return 0, fmt.Errorf("remove old pseudonyms of charges: %w", err)
	}
	from, low := s.forgetFrom.Load(), int64(-1)
	for lo := from; lo < last; lo += ForgetRange {
		err := s.inWrite(ctx, func() error {
			res, err := s.write.ExecContext(ctx, `UPDATE charges SET pseudonym = NULL WHERE seq > ? AND seq <= ? AND pseudonym IS NOT NULL
				AND occurred_at_ns < ?`, lo, lo+ForgetRange, before.UnixNano())
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
			if low >= 0 {
				return nil
			}
			var left bool
			err = s.write.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM charges WHERE seq > ? AND seq <= ? AND pseudonym IS NOT NULL)`,
				lo, lo+ForgetRange).Scan(&left)
			if left {
				low = lo // a later walk starts here
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("remove old pseudonyms of charges: %w", err)
		}
	}
	if low < 0 {
		low = max(from, last)
	}
	s.forgetFrom.Store(low)
	err = s.inWrite(ctx, func() error {
		res, err := s.write.ExecContext(ctx, `UPDATE rejected SET pseudonym = NULL WHERE pseudonym IS NOT NULL AND parked_at < ?`, fmtTime(before))
		if err != nil {
			return fmt.Errorf("remove old pseudonyms of parked events: %w", err)
		}
		k, _ := res.RowsAffected()
		n += k
		return nil
	})
	return n, err
}
