package sql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

// maxLiability is ledger.MaxLiability in micro-EUR, for the queries.
var maxLiability = strconv.FormatInt(int64(ledger.MaxLiability), 10)

// CheckInvariants verifies over the whole database what must hold at every instant
// (RULES.md invariants 1 to 5, and the journal's own bookkeeping). It returns every violation
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
			       WHERE t.kind = 'usage' AND l.account_id IS NOT NULL) AS parts
			 GROUP BY transaction_id, account_id HAVING sum(x) != 0`},
		{"every entry names a transaction and a ledger account that exist (PostgreSQL keeps no foreign keys on entries)",
			`SELECT 'entry ' || e.id || ' names transaction ' || e.transaction_id || ', which does not exist' FROM entries e
			 WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = e.transaction_id)
			 UNION ALL
			 SELECT 'entry ' || e.id || ' names ledger account ' || e.ledger_account_id || ', which does not exist' FROM entries e
			 WHERE NOT EXISTS (SELECT 1 FROM ledger_account_names n WHERE n.id = e.ledger_account_id)`},
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
		{"invariant 4: what settled an invoice is its settlements, and no more than its total",
			`SELECT 'invoice ' || i.id || ': settled ' || i.settled_micros || ' (credited ' || i.credited_micros || '), settlements ' ||
			        coalesce(x.total, 0) || ' (credit notes ' || coalesce(x.credited, 0) || '), total ' || i.total_micros
			 FROM invoices i LEFT JOIN (SELECT invoice_id, sum(amount_micros) AS total,
			   sum(CASE WHEN kind = 'credit_note' THEN amount_micros ELSE 0 END) AS credited FROM settlements GROUP BY invoice_id) x
			   ON x.invoice_id = i.id
			 WHERE i.settled_micros != coalesce(x.total, 0) OR i.credited_micros != coalesce(x.credited, 0)
			   OR i.settled_micros > i.total_micros OR i.settled_micros < 0`},
		{"an account's receivable is what its invoices leave outstanding",
			`SELECT 'account ' || a.id || ': receivable ' || coalesce(l.balance_micros, 0) || ', invoices outstanding ' || coalesce(x.outstanding, 0)
			 FROM accounts a LEFT JOIN ledger_accounts l ON l.name = 'customer:' || a.id || ':receivable'
			 LEFT JOIN (SELECT account_id, sum(total_micros - settled_micros) AS outstanding FROM invoices GROUP BY account_id) x
			   ON x.account_id = a.id
			 WHERE coalesce(l.balance_micros, 0) != coalesce(x.outstanding, 0)`},
		{"a disputed amount is what its open disputes hold back",
			`SELECT 'invoice ' || i.id || ': disputed ' || i.disputed_micros || ', open disputes ' || coalesce(x.total, 0)
			 FROM invoices i LEFT JOIN (SELECT invoice_id, sum(amount_micros) AS total FROM disputes WHERE status = 'open'
			   GROUP BY invoice_id) x ON x.invoice_id = i.id WHERE i.disputed_micros != coalesce(x.total, 0)`},
		{"document numbers have no gaps within a year",
			`SELECT 'invoices of ' || year || ': ' || count(*) || ' numbered up to ' || max(seq) FROM invoices GROUP BY year HAVING max(seq) != count(*)
			 UNION ALL
			 SELECT 'credit notes of ' || year || ': ' || count(*) || ' numbered up to ' || max(seq) FROM credit_notes GROUP BY year HAVING max(seq) != count(*)`},
		{"a customer's credit is never a debt",
			`SELECT 'ledger account ' || name || ' has balance ' || balance_micros FROM ledger_accounts
			 WHERE name LIKE 'customer:%:credit' AND balance_micros > 0`},
		{"invariant 5: per account, granted claims ≤ the liability cap ≤ €50,000, the cap fixed by the first claim (R12, T&C 8.4)",
			`SELECT 'account ' || l.account_id || ': granted ' || l.granted_micros || ' (claims ' || coalesce(x.granted, 0) || '), cap ' ||
			        l.cap_micros || ' (paid ' || l.paid_12m_micros || ' in the window), first claim ' || l.first_claim_id ||
			        ' (account ' || coalesce(f.account_id, '-') || ', incident ' || coalesce(CAST(f.incident_at AS TEXT), '-') || ', first ' || coalesce(CAST(x.first AS TEXT), '-') || ')'
			 FROM liabilities l
			 LEFT JOIN (SELECT account_id, sum(granted_micros) AS granted, min(seq) AS first FROM claims GROUP BY account_id) x
			   ON x.account_id = l.account_id
			 LEFT JOIN claims f ON f.id = l.first_claim_id
			 WHERE l.granted_micros != coalesce(x.granted, 0) OR l.granted_micros < 0 OR l.granted_micros > l.cap_micros
			   OR l.cap_micros > ` + maxLiability + ` OR l.cap_micros != CASE WHEN l.paid_12m_micros < 0 THEN 0 WHEN l.paid_12m_micros > ` + maxLiability + ` THEN ` + maxLiability + ` ELSE l.paid_12m_micros END
			   OR f.seq IS DISTINCT FROM x.first OR f.account_id IS DISTINCT FROM l.account_id OR f.incident_at IS DISTINCT FROM l.first_incident_at
			 UNION ALL
			 SELECT 'claim ' || id || ' of account ' || account_id || ' has no liability' FROM claims c
			 WHERE NOT EXISTS (SELECT 1 FROM liabilities l WHERE l.account_id = c.account_id)`},
		{"a granted claim is its customer's credit, posted once (R12, R8)",
			`SELECT 'claim ' || c.id || ': granted ' || c.granted_micros || ', transaction ' || coalesce(CAST(c.transaction_id AS TEXT), '-') ||
			        ' (' || coalesce(t.kind, '-') || ') credits the customer ' || coalesce(-e.amount_micros, 0) || ' and ' || coalesce(t.entries, 0) || ' entries'
			 FROM claims c
			 LEFT JOIN (SELECT t.id, t.kind, count(*) AS entries FROM transactions t JOIN entries e ON e.transaction_id = t.id GROUP BY t.id) t
			   ON t.id = c.transaction_id
			 LEFT JOIN entries e ON e.transaction_id = c.transaction_id
			   AND e.ledger_account_id = (SELECT id FROM ledger_account_names WHERE name = 'customer:' || c.account_id || ':credit')
			 WHERE c.granted_micros != coalesce(-e.amount_micros, 0)
			   OR (c.transaction_id IS NOT NULL AND (t.kind IS DISTINCT FROM '` + ledger.KindClaim + `' OR t.entries != 2))
			 UNION ALL
			 SELECT 'transaction ' || t.id || ' of kind ` + ledger.KindClaim + ` belongs to no claim' FROM transactions t
			 WHERE t.kind = '` + ledger.KindClaim + `' AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.transaction_id = t.id)`},
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
	errs = append(errs, s.checkInvoiceDocuments(ctx)...)
	errs = append(errs, s.checkOpenLines(ctx)...)
	return errors.Join(errs...)
}

// checkInvoiceDocuments verifies invariant 4 on each issued invoice: its total is the sum of its
// lines plus the VAT, and the row says the same total.
func (s *Store) checkInvoiceDocuments(ctx context.Context) []error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, total_micros, document FROM invoices`)
	if err != nil {
		return []error{err}
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var id string
		var total int64
		var doc []byte
		if err := rows.Scan(&id, &total, &doc); err != nil {
			return append(errs, err)
		}
		var inv invoices.Invoice
		if err := json.Unmarshal(doc, &inv); err != nil {
			errs = append(errs, fmt.Errorf("invoice %s: document: %w", id, err))
			continue
		}
		if err := inv.Check(); err != nil {
			errs = append(errs, fmt.Errorf("invariant 4: %w", err))
		}
		if m, err := money.ToMicros(inv.Total); err != nil || int64(m) != total {
			errs = append(errs, fmt.Errorf("invariant 4: invoice %s: row total %d micro-EUR, document %s", id, total, inv.Total))
		}
	}
	return append(errs, rows.Err())
}

// checkOpenLines verifies that each postpaid account's open usage lines add up to its unbilled
// balance (the lines are written first).
func (s *Store) checkOpenLines(ctx context.Context) []error {
	if err := s.FlushLines(ctx); err != nil {
		return []error{err}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT 'account ' || a.id || ': unbilled ' || coalesce(l.balance_micros, 0) ||
		', open usage lines ' || coalesce(x.total, 0)
		FROM accounts a LEFT JOIN ledger_accounts l ON l.name = 'customer:' || a.id || ':unbilled'
		LEFT JOIN (SELECT account_id, sum(micros) AS total FROM usage_lines GROUP BY account_id) x ON x.account_id = a.id
		WHERE a.type = 'postpaid' AND coalesce(l.balance_micros, 0) != coalesce(x.total, 0)`)
	if err != nil {
		return []error{err}
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return append(errs, err)
		}
		errs = append(errs, errors.New("open usage lines: "+msg))
	}
	return append(errs, rows.Err())
}
