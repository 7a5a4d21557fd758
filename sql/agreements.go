package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/pricing"
)

// Customer agreements (T&C 2.7) and the tariffs they are priced against.

// UsePricing gives the store the tariffs in use and puts every account's agreement in force for
// rating (in the credit book, which UseCredit gave). Agreements are built again from what was
// stored, against these tariffs' CPI changes. Invoices also take their indexation notes (R3)
// from these tariffs.
func (s *Store) UsePricing(ctx context.Context, t *pricing.Tariffs) error {
	s.tariffs.Store(t)
	return s.loadAgreements(ctx, t)
}

// loadAgreements puts every account's agreement, as stored, in force in the credit book.
func (s *Store) loadAgreements(ctx context.Context, t *pricing.Tariffs) error {
	agreed, err := s.readAgreements(ctx, t)
	if err != nil {
		return err
	}
	if s.credit != nil {
		for account, terms := range agreed {
			s.credit.SetTerms(account, terms)
		}
	}
	return nil
}

// cachedAgreement is an agreement as built against the tariffs in use, by version: another
// instance's refresh reads every agreement again, and builds only those that changed.
type cachedAgreement struct {
	version int
	tariffs *pricing.Tariffs
	terms   pricing.Terms
}

// readAgreements reads every account's agreement in force and builds it against t (T&C 2.7).
func (s *Store) readAgreements(ctx context.Context, t *pricing.Tariffs) (map[string]pricing.Terms, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.account_id, p.version, p.body, a.indexation FROM price_agreements p
		JOIN accounts a ON a.id = p.account_id
		WHERE p.version = (SELECT max(version) FROM price_agreements q WHERE q.account_id = p.account_id)`)
	if err != nil {
		return nil, fmt.Errorf("read agreements: %w", err)
	}
	defer rows.Close()
	s.agreementsMu.Lock()
	defer s.agreementsMu.Unlock()
	if s.agreements == nil {
		s.agreements = map[string]cachedAgreement{}
	}
	out := map[string]pricing.Terms{}
	for rows.Next() {
		var account, body string
		var version int
		var indexation bool
		if err := rows.Scan(&account, &version, &body, &indexation); err != nil {
			return nil, err
		}
		c, ok := s.agreements[account]
		if !ok || c.version != version || c.tariffs != t {
			a, _, err := t.BuildAgreement(body)
			if err != nil {
				return nil, fmt.Errorf("agreement of %s (version %d) no longer loads against these tariffs (several instances need the same --tariffs): %w", account, version, err)
			}
			c = cachedAgreement{version: version, tariffs: t, terms: pricing.Terms{Agreement: a}}
			s.agreements[account] = c
		}
		terms := c.terms
		terms.NoIndexation = !indexation
		out[account] = terms
	}
	return out, rows.Err()
}

// WithAgreements runs fn in one write transaction, under the writer's lock
// (billing.AgreementStore).
func (s *Store) WithAgreements(ctx context.Context, fn func(tx billing.AgreementTx) error) error {
	return s.inWrite(ctx, func() error { return fn(writeTx{s, ctx}) })
}

func (t writeTx) AccountTerms(account string) (ledger.Status, bool, error) {
	var status string
	var indexation bool
	err := t.s.write.QueryRowContext(t.ctx, `SELECT status, indexation FROM accounts WHERE id = ?`, account).Scan(&status, &indexation)
	if errors.Is(err, stdsql.ErrNoRows) {
		return "", false, ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", account)
	}
	return ledger.Status(status), indexation, err
}

func (t writeTx) CurrentAgreement(account string) (int, string, bool, error) {
	var version int
	var current stdsql.NullString
	err := t.s.write.QueryRowContext(t.ctx, `SELECT coalesce(max(version), 0),
		(SELECT body FROM price_agreements WHERE account_id = ? ORDER BY version DESC LIMIT 1)
		FROM price_agreements WHERE account_id = ?`, account, account).Scan(&version, &current)
	return version, current.String, current.Valid, err
}

// SaveAgreement records the new version and, once it commits, puts its terms in force for
// rating (the credit book).
func (t writeTx) SaveAgreement(d billing.AgreementDecision) error {
	s := t.s
	if _, err := s.write.ExecContext(t.ctx, `INSERT INTO price_agreements(account_id, version, rows, body, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?)`, d.Account, d.Version, d.Rows, d.Body, fmtTime(d.At), d.By); err != nil {
		return fmt.Errorf("record agreement: %w", err)
	}
	if s.credit != nil {
		s.onCommit(func() { s.credit.SetTerms(d.Account, d.Terms) })
	}
	return nil
}

// Agreement returns the agreement in force for an account; 404 when it has none.
func (s *Store) Agreement(ctx context.Context, account string) (billing.AgreementView, error) {
	v := billing.AgreementView{Account: account}
	var body, created string
	err := s.db.QueryRowContext(ctx, `SELECT p.version, p.body, p.created_at, p.created_by, a.indexation
		FROM price_agreements p JOIN accounts a ON a.id = p.account_id
		WHERE p.account_id = ? ORDER BY p.version DESC LIMIT 1`, account).Scan(&v.Version, &body, &created, &v.CreatedBy, &v.Indexation)
	if errors.Is(err, stdsql.ErrNoRows) {
		if _, err := s.Account(ctx, account); err != nil {
			return billing.AgreementView{}, err
		}
		return billing.AgreementView{}, ledger.Errorf(ledger.CodeNotFound, "account %q has no agreed prices: it pays the list prices (T&C 3.1)", account)
	}
	if err != nil {
		return billing.AgreementView{}, err
	}
	if v.CreatedAt, err = parseTime(created); err != nil {
		return billing.AgreementView{}, err
	}
	if v.Rows, err = pricing.ParsePrices(pricing.AgreementFile, strings.NewReader(body)); err != nil {
		return billing.AgreementView{}, fmt.Errorf("agreement of %s: %w", account, err)
	}
	return v, nil
}

// indexationNotes are the notes of the indexations since what the customer's previous invoice
// covered (or, on its first, since it was registered) up to the start of the period invoiced:
// the first invoice after an indexation states its rate and CPI year (R3, T&C 3.4). An account
// that opted out of indexation gets none; nor does an indexation whose CPI change is missing,
// which indexed nothing (its events wait parked, missing_cpi).
func (s *Store) indexationNotes(c customer, period invoices.Period) []string {
	t := s.tariffs.Load()
	if t == nil || !c.indexation {
		return nil
	}
	var notes []string
	for year := clock.DateOf(c.invoicedSince).Year + 1; year <= period.Year; year++ {
		day := pricing.IndexationDay(year)
		if day.Start().After(period.Start()) {
			break
		}
		if change, ok := t.CPIChange(year - 1); ok {
			notes = append(notes, invoices.IndexationNote(day, year-1, change))
		}
	}
	return notes
}
