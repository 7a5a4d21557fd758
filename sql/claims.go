package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

// FileClaim files a claim for damages and grants what the liability cap leaves of it (R12,
// T&C 8.4): the first claim filed fixes the window — the 12 months before its incident — and
// with it the cap, what the customer paid in that window, at most €50,000 for all claims
// together; later claims are granted what remains. What is granted is a credit to the customer
// (ledger.ClaimTransaction), set off at once against its oldest open invoices, each application
// its own set_off transaction (R8, T&C 3.10); what is left stays the customer's credit and is
// set off against the next invoices as they are issued. What is not granted is refused: the
// view says how much and why (ClaimView.Refusal), and the claim is recorded all the same — a
// refusal is an answer, not an error.
//
// A prepaid account's claims are decided alike, its top-ups counting as paid; having no
// invoices and no exposure (R9), its credit stays what the provider owes it.
//
// Idempotent on the claim id: the same claim again answers what the first request recorded,
// created=false; the same id with other terms is a conflict. The claim is decided and booked in
// one write transaction, under the writer's lock, so copies of one request arriving together
// are booked once and concurrent claims of an account see each other's grants.
func (s *Store) FileClaim(ctx context.Context, account string, c ledger.Claim, by string, now time.Time) (billing.ClaimView, bool, error) {
	if err := c.Validate(); err != nil {
		return billing.ClaimView{}, false, err
	}
	if c.IncidentAt.After(now) {
		return billing.ClaimView{}, false, ledger.Errorf(ledger.CodeInvalid, "claim %s: incident_at %s is in the future", c.ID, c.IncidentAt.Format(time.RFC3339))
	}
	c.IncidentAt = c.IncidentAt.UTC()
	// Invoices that fell due up to now are issued first, so that the credit finds them (R8).
	if _, err := s.RunDue(ctx, now); err != nil {
		return billing.ClaimView{}, false, err
	}
	created := false
	err := s.inWrite(ctx, func() error {
		var exists int
		if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE id = ?`, c.ID).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return nil // a retry: answered below with what the first request recorded
		}
		created = true
		typ, err := accountType(ctx, s.write, account)
		if err != nil {
			return err
		}
		before, err := fixedLiability(ctx, s.write, account)
		if err != nil {
			return err
		}
		// Only the first claim reads what was paid: after it the cap is fixed (R12).
		var paid []ledger.Paid
		if !before.Fixed() {
			if paid, err = paidIn(ctx, s.write, account, c.IncidentAt); err != nil {
				return err
			}
		}
		after, granted, err := before.Decide(c, paid)
		if err != nil {
			return err
		}
		var tx ledger.Transaction
		var txID any
		if granted > 0 {
			if tx, err = ledger.ClaimTransaction(account, c.ID, granted, now); err != nil {
				return err
			}
			id, err := s.postTransaction(ctx, tx, by)
			if err != nil {
				return err
			}
			txID = id
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO claims(id, account_id, amount_micros, granted_micros, incident_at, reason,
			transaction_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, account, int64(c.Amount), int64(granted),
			fmtTime(c.IncidentAt), c.Reason, txID, fmtTime(now), by); err != nil {
			return fmt.Errorf("record claim %s: %w", c.ID, err)
		}
		if err := s.recordLiability(ctx, account, c.ID, before, after); err != nil {
			return err
		}
		if granted == 0 || typ != ledger.Postpaid {
			return nil
		}
		// R4: the credit lowers the exposure at once (it may resume a suspended account); set off,
		// it moves onto the invoices it settles.
		if err := s.evaluateCredit(ctx, &tx, now); err != nil {
			return err
		}
		return s.setOffCredit(ctx, account, now)
	})
	if err != nil {
		return billing.ClaimView{}, false, err
	}
	v, err := s.Claim(ctx, c.ID)
	if err == nil && !created && (v.Account != account || v.Amount != c.Amount || !v.IncidentAt.Equal(c.IncidentAt) || v.Reason != c.Reason) {
		return billing.ClaimView{}, false, ledger.Errorf(ledger.CodeConflict, "claim %q exists with other terms (account %s, %s EUR, incident %s)",
			c.ID, v.Account, money.FormatInvoice(v.Amount.Decimal()), v.IncidentAt.Format(time.RFC3339))
	}
	return v, created, err
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
