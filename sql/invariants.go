package sql

import (
	"context"
	"errors"
	"fmt"
)

// CheckInvariants verifies over the whole database what must hold at every instant
// (RULES.md invariants 1 and 2, and the journal's own bookkeeping). It returns every violation
// found, joined; nil when all hold. Tests run it at the end; operators can too.
func (s *Store) CheckInvariants(ctx context.Context) error {
	checks := []struct {
		name  string
		query string
	}{
		{"invariant 1: every transaction's entries sum to zero",
			`SELECT 'transaction ' || transaction_id || ' sums to ' || sum(amount_micros) || ' micro-EUR'
			 FROM entries GROUP BY transaction_id HAVING sum(amount_micros) != 0`},
		{"every transaction has entries",
			`SELECT 'transaction ' || t.id || ' has no entries' FROM transactions t
			 WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)`},
		{"balances equal the sum of their entries",
			`SELECT 'ledger account ' || x.ledger_account || ': balance ' || coalesce(b.balance_micros, 0) || ' ≠ entries ' || x.total
			 FROM (SELECT ledger_account, sum(amount_micros) AS total FROM entries GROUP BY ledger_account) x
			 LEFT JOIN ledger_balances b ON b.ledger_account = x.ledger_account
			 WHERE coalesce(b.balance_micros, 0) != x.total
			 UNION ALL
			 SELECT 'ledger account ' || b.ledger_account || ' has a balance but no entries' FROM ledger_balances b
			 WHERE b.balance_micros != 0 AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.ledger_account = b.ledger_account)`},
		{"a usage transaction's charges equal its customer entries",
			`SELECT 'usage transaction ' || c.transaction_id || ': charges ' || c.total || ' ≠ customer entries ' || coalesce(e.total, 0)
			 FROM (SELECT transaction_id, sum(amount_micros + surcharge_micros) AS total FROM charges GROUP BY transaction_id) c
			 LEFT JOIN (SELECT transaction_id, sum(amount_micros) AS total FROM entries
			            WHERE ledger_account LIKE 'customer:%:unbilled' GROUP BY transaction_id) e
			   ON e.transaction_id = c.transaction_id
			 WHERE coalesce(e.total, 0) != c.total`},
		{"invariant 2: a charged event is not also open as parked",
			`SELECT 'event ' || r.event_key || ' is charged and still parked as ' || r.reason FROM rejected r
			 JOIN charges c ON c.event_id = r.event_key AND c.content_hash = r.content_hash
			 WHERE r.resolved_at IS NULL`},
	}
	var errs []error
	for _, c := range checks {
		rows, err := s.db.QueryContext(ctx, c.query)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		for rows.Next() {
			var msg string
			if err := rows.Scan(&msg); err != nil {
				rows.Close()
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %s", c.name, msg))
			if len(errs) > 50 {
				break
			}
		}
		rows.Close()
	}
	return errors.Join(errs...)
}
