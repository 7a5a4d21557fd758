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
		{"every ledger account has a balance",
			`SELECT 'ledger account ' || n.name || ' has no balance row' FROM ledger_account_names n
			 LEFT JOIN balances b ON b.ledger_account_id = n.id WHERE b.ledger_account_id IS NULL`},
		{"every transaction has entries",
			`SELECT 'transaction ' || t.id || ' has no entries' FROM transactions t
			 WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)`},
		{"balances equal the sum of their entries",
			`SELECT 'ledger account ' || l.name || ': balance ' || l.balance_micros || ' ≠ entries ' || coalesce(x.total, 0)
			 FROM ledger_accounts l
			 LEFT JOIN (SELECT ledger_account_id, sum(amount_micros) AS total FROM entries GROUP BY ledger_account_id) x
			   ON x.ledger_account_id = l.id
			 WHERE l.balance_micros != coalesce(x.total, 0)`},
		{"a usage transaction's charges equal its customer entries, account by account",
			`SELECT 'usage transaction ' || transaction_id || ', account ' || account_id || ': charges and customer entry differ by ' || sum(x)
			 FROM (SELECT transaction_id, account_id, amount_micros + surcharge_micros AS x FROM charges
			       UNION ALL
			       SELECT e.transaction_id, l.account_id, -e.amount_micros FROM entries e
			       JOIN ledger_accounts l ON l.id = e.ledger_account_id JOIN transactions t ON t.id = e.transaction_id
			       WHERE t.kind = 'usage' AND l.account_id IS NOT NULL)
			 GROUP BY transaction_id, account_id HAVING sum(x) != 0`},
		{"each ledger account's entries form one chain, newest at its head",
			`SELECT 'entry ' || e.id || ' follows entry ' || p.id || ' of another account or a later one'
			 FROM entries e JOIN entries p ON p.id = e.prev_id
			 WHERE p.ledger_account_id != e.ledger_account_id OR p.id >= e.id
			 UNION ALL
			 SELECT 'entry ' || prev_id || ' is followed twice' FROM entries WHERE prev_id IS NOT NULL
			 GROUP BY prev_id HAVING count(*) > 1
			 UNION ALL
			 SELECT 'ledger account ' || ledger_account_id || ' has ' || count(*) || ' chain starts' FROM entries
			 WHERE prev_id IS NULL GROUP BY ledger_account_id HAVING count(*) != 1
			 UNION ALL
			 SELECT 'ledger account ' || l.name || ': head ' || coalesce(l.last_entry_id, 0) || ' is not its newest entry ' || coalesce(x.newest, 0)
			 FROM ledger_accounts l LEFT JOIN (SELECT ledger_account_id, max(id) AS newest FROM entries GROUP BY ledger_account_id) x
			   ON x.ledger_account_id = l.id
			 WHERE coalesce(l.last_entry_id, 0) != coalesce(x.newest, 0)`},
		{"invariant 3: each prepaid lot: remaining + used + expired + charged back = topped up, none below zero",
			`WITH k AS (SELECT e.ledger_account_id AS la, t.kind, sum(e.amount_micros) AS total
			            FROM entries e JOIN transactions t ON t.id = e.transaction_id
			            WHERE e.ledger_account_id IN (SELECT ledger_account_id FROM prepaid_lots)
			            GROUP BY e.ledger_account_id, t.kind),
			      x AS (SELECT l.id, l.amount_micros, l.expired_micros, l.charged_back_micros, l.state, b.balance_micros AS balance,
			            coalesce((SELECT -total FROM k WHERE k.la = l.ledger_account_id AND k.kind = 'topup'), 0) AS topped,
			            coalesce((SELECT sum(total) FROM k WHERE k.la = l.ledger_account_id AND k.kind IN ('usage', 'prepaid_setoff')), 0) AS used,
			            coalesce((SELECT total FROM k WHERE k.la = l.ledger_account_id AND k.kind = 'prepaid_expiry'), 0) AS expired,
			            coalesce((SELECT total FROM k WHERE k.la = l.ledger_account_id AND k.kind = 'chargeback'), 0) AS charged_back
			            FROM prepaid_lots l JOIN ledger_accounts b ON b.id = l.ledger_account_id)
			 SELECT 'lot ' || id || ': topped up ' || topped || ' (row ' || amount_micros || '), remaining ' || -balance ||
			        ', used ' || used || ', expired ' || expired || ' (row ' || expired_micros || '), charged back ' ||
			        charged_back || ' (row ' || charged_back_micros || '), state ' || state
			 FROM x WHERE topped != amount_micros OR expired != expired_micros OR charged_back != charged_back_micros
			   OR balance > 0 OR used < 0 OR -balance + used + expired + charged_back != topped
			   OR (state = 'expired' AND balance != 0)`},
		{"a shortfall or a chargeback debt is never negative",
			`SELECT 'ledger account ' || name || ' has balance ' || balance_micros FROM ledger_accounts
			 WHERE (name LIKE 'customer:%:shortfall' OR name LIKE 'customer:%:chargebacks') AND balance_micros < 0`},
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
