package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"ledger/billing"
	"ledger/ledger"
)

// WithClaims runs fn in one write transaction, under the writer's lock (billing.ClaimStore).
func (s *Store) WithClaims(ctx context.Context, fn func(tx billing.ClaimTx) error) error {
	return s.inWrite(ctx, func() error { return fn(writeTx{s, ctx}) })
}

func (t writeTx) ClaimExists(id string) (bool, error) {
	return t.exists(`SELECT count(*) FROM claims WHERE id = ?`, id)
}

func (t writeTx) AccountType(account string) (ledger.AccountType, error) {
	return accountType(t.ctx, t.s.write, account)
}

func (t writeTx) FixedLiability(account string) (ledger.Liability, error) {
	return fixedLiability(t.ctx, t.s.write, account)
}

func (t writeTx) PaidIn(account string, incident time.Time) ([]ledger.Paid, error) {
	return paidIn(t.ctx, t.s.write, account, incident)
}

// SaveClaim books the credit granted (its journal transaction), records the claim and the
// liability it leaves, and for a postpaid account evaluates credit control and sets the credit
// off against the open invoices.
func (t writeTx) SaveClaim(d billing.ClaimDecision) error {
	s, ctx := t.s, t.ctx
	var txID any
	if d.Credit != nil {
		id, err := s.postTransaction(ctx, *d.Credit, d.By)
		if err != nil {
			return err
		}
		txID = id
	}
	c := d.Claim
	if _, err := s.write.ExecContext(ctx, `INSERT INTO claims(id, account_id, amount_micros, granted_micros, incident_at, reason,
		transaction_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, d.Account, int64(c.Amount), int64(d.Granted),
		fmtTime(c.IncidentAt), c.Reason, txID, fmtTime(d.At), d.By); err != nil {
		return fmt.Errorf("record claim %s: %w", c.ID, err)
	}
	if err := s.recordLiability(ctx, d.Account, c.ID, d.Before, d.After); err != nil {
		return err
	}
	if !d.SetOff || d.Credit == nil {
		return nil
	}
	if err := s.evaluateCredit(ctx, d.Credit, d.At); err != nil {
		return err
	}
	return s.setOffCredit(ctx, d.Account, d.At)
}

// recordLiability stores the liability a claim left: the first claim fixes the window and the
// cap; a later one adds to the granted total of the liability it was decided on, which must
// still be the stored one (the postcondition of that decision).
func (s *Store) recordLiability(ctx context.Context, account, claimID string, before, after ledger.Liability) error {
	if !before.Fixed() {
		_, err := s.write.ExecContext(ctx, `INSERT INTO liabilities(account_id, first_claim_id, first_incident_at, paid_12m_micros,
			cap_micros, granted_micros) VALUES (?, ?, ?, ?, ?, ?)`, account, claimID, fmtTime(after.FirstIncident), int64(after.Paid12m),
			int64(after.Cap), int64(after.Granted))
		if err != nil {
			return fmt.Errorf("liability of %s: %w", account, err)
		}
		return nil
	}
	res, err := s.write.ExecContext(ctx, `UPDATE liabilities SET granted_micros = ? WHERE account_id = ? AND granted_micros = ?
		AND cap_micros = ?`, int64(after.Granted), account, int64(before.Granted), int64(before.Cap))
	if err != nil {
		return fmt.Errorf("liability of %s: %w", account, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("liability of %s changed under claim %s (%d rows, %v)", account, claimID, n, err)
	}
	return nil
}

// rowQuerier is what the writer's connection and the readers both offer.
type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *stdsql.Row
}

// accountType returns an account's type; ledger.CodeNotFound when there is no such account.
func accountType(ctx context.Context, q rowQuerier, account string) (ledger.AccountType, error) {
	var typ string
	err := q.QueryRowContext(ctx, `SELECT type FROM accounts WHERE id = ?`, account).Scan(&typ)
	if errors.Is(err, stdsql.ErrNoRows) {
		return "", ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", account)
	}
	return ledger.AccountType(typ), err
}

// fixedLiability reads the liability the account's first claim fixed, with what all its claims
// were granted; the zero Liability before the first claim.
func fixedLiability(ctx context.Context, q rowQuerier, account string) (ledger.Liability, error) {
	var l ledger.Liability
	var first string
	err := q.QueryRowContext(ctx, `SELECT first_incident_at, paid_12m_micros, cap_micros, granted_micros FROM liabilities
		WHERE account_id = ?`, account).Scan(&first, &l.Paid12m, &l.Cap, &l.Granted)
	if errors.Is(err, stdsql.ErrNoRows) {
		return ledger.Liability{}, nil
	}
	if err != nil {
		return ledger.Liability{}, fmt.Errorf("liability of %s: %w", account, err)
	}
	if l.FirstIncident, err = parseTime(first); err != nil {
		return ledger.Liability{}, fmt.Errorf("liability of %s: %w", account, err)
	}
	return l, nil
}

// paidIn lists what the customer paid in the 12 months before incident (ledger.LiabilityWindow;
// T&C 8.4: "what the customer paid"): payments received, and top-ups received less what
// chargebacks reversed of them (R10: a reversed top-up was not paid, whenever the chargeback
// came), each at the time the money was received.
func paidIn(ctx context.Context, q rowQuerier, account string, incident time.Time) ([]ledger.Paid, error) {
	from, to := ledger.LiabilityWindow(incident)
	rows, err := q.QueryContext(ctx, `SELECT received_at, amount_micros FROM payments
		WHERE account_id = ?1 AND received_at >= ?2 AND received_at < ?3
		UNION ALL
		SELECT l.received_at, l.amount_micros - coalesce((SELECT sum(c.amount_micros) FROM chargebacks c WHERE c.topup_id = l.id), 0)
		FROM prepaid_lots l WHERE l.account_id = ?1 AND l.received_at >= ?2 AND l.received_at < ?3`, account, fmtTime(from), fmtTime(to))
	if err != nil {
		return nil, fmt.Errorf("paid by %s: %w", account, err)
	}
	defer rows.Close()
	var out []ledger.Paid
	for rows.Next() {
		var p ledger.Paid
		var received string
		if err := rows.Scan(&received, &p.Amount); err != nil {
			return nil, err
		}
		if p.At, err = parseTime(received); err != nil {
			return nil, fmt.Errorf("paid by %s: %w", account, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

const claimSelect = `SELECT c.id, c.account_id, c.amount_micros, c.granted_micros, c.incident_at, c.reason,
	coalesce(c.transaction_id, 0), c.created_at, c.created_by, l.first_incident_at, l.paid_12m_micros, l.cap_micros,
	(SELECT sum(p.granted_micros) FROM claims p WHERE p.account_id = c.account_id AND p.seq <= c.seq)
	FROM claims c JOIN liabilities l ON l.account_id = c.account_id `

// queryClaims reads the claims a query selects, each with the liability as it left it.
func (s *Store) queryClaims(ctx context.Context, where string, args ...any) ([]billing.ClaimView, error) {
	rows, err := s.db.QueryContext(ctx, claimSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	defer rows.Close()
	var out []billing.ClaimView
	for rows.Next() {
		var v billing.ClaimView
		var incident, created, first string
		if err := rows.Scan(&v.ID, &v.Account, &v.Amount, &v.Granted, &incident, &v.Reason, &v.TransactionID, &created,
			&v.CreatedBy, &first, &v.Liability.Paid12m, &v.Liability.Cap, &v.Liability.Granted); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			s string
			t *time.Time
		}{{incident, &v.IncidentAt}, {created, &v.CreatedAt}, {first, &v.Liability.FirstIncident}} {
			if *f.t, err = parseTime(f.s); err != nil {
				return nil, fmt.Errorf("claim %s: %w", v.ID, err)
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Claim reads one claim; ledger.CodeNotFound when there is none.
func (s *Store) Claim(ctx context.Context, id string) (billing.ClaimView, error) {
	claims, err := s.queryClaims(ctx, `WHERE c.id = ?`, id)
	if err != nil {
		return billing.ClaimView{}, err
	}
	if len(claims) == 0 {
		return billing.ClaimView{}, ledger.Errorf(ledger.CodeNotFound, "claim %q does not exist", id)
	}
	return claims[0], nil
}

// Claims lists an account's claims in the order they were filed, after the one named by after
// (a cursor naming no claim is an error, not the start of the list).
func (s *Store) Claims(ctx context.Context, account, after string, limit int) ([]billing.ClaimView, error) {
	if _, err := accountType(ctx, s.db, account); err != nil {
		return nil, err
	}
	if err := s.checkCursor(ctx, "claims", after); err != nil {
		return nil, err
	}
	return s.queryClaims(ctx, `WHERE c.account_id = ? AND c.seq > coalesce((SELECT seq FROM claims WHERE id = ?), 0)
		ORDER BY c.seq LIMIT ?`, account, after, limit)
}

// Liability reads an account's liability (R12, T&C 8.4): the cap, what was paid in its window,
// what all claims were granted and what remains. Before any claim it shows the cap an incident
// at now would fix, over the 12 months before now.
func (s *Store) Liability(ctx context.Context, account string, now time.Time) (billing.LiabilityView, error) {
	if _, err := accountType(ctx, s.db, account); err != nil {
		return billing.LiabilityView{}, err
	}
	l, err := fixedLiability(ctx, s.db, account)
	if err != nil {
		return billing.LiabilityView{}, err
	}
	var v billing.LiabilityView
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE account_id = ?`, account).Scan(&v.Claims); err != nil {
		return billing.LiabilityView{}, err
	}
	if l.Fixed() {
		v.FirstIncident = l.FirstIncident
		v.From, v.To = ledger.LiabilityWindow(l.FirstIncident)
		v.Cap, v.Paid12m, v.Granted, v.Remaining = l.Cap, l.Paid12m, l.Granted, l.Remaining()
		return v, nil
	}
	paid, err := paidIn(ctx, s.db, account, now)
	if err != nil {
		return billing.LiabilityView{}, err
	}
	v.From, v.To = ledger.LiabilityWindow(now)
	v.Cap, v.Paid12m = ledger.LiabilityCap(paid, now)
	v.Remaining = v.Cap
	return v, nil
}
