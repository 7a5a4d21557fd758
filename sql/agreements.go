package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/pricing"
)

// Customer agreements (T&C 2.7) and the tariffs they are priced against.

// MaxAgreementBytes is the largest agreed price list PUT /v1/accounts/{id}/prices takes (about
// 15,000 rows), the API's request limit.
const MaxAgreementBytes = 1 << 20

// AgreementFile is the name agreement errors give the uploaded list: "prices.csv:3:6 (unit_price): …".
const AgreementFile = "prices.csv"

// UsePricing gives the store the tariffs in use and puts every account's agreement in force for
// rating (in the credit book, which UseCredit gave). Agreements are built again from what was
// stored, against these tariffs' CPI changes. Invoices also take their indexation notes (R3)
// from these tariffs.
func (s *Store) UsePricing(ctx context.Context, t *pricing.Tariffs) error {
	s.tariffs.Store(t)
	rows, err := s.db.QueryContext(ctx, `SELECT p.account_id, p.version, p.body, a.indexation FROM price_agreements p
		JOIN accounts a ON a.id = p.account_id
		WHERE p.version = (SELECT max(version) FROM price_agreements q WHERE q.account_id = p.account_id)`)
	if err != nil {
		return fmt.Errorf("read agreements: %w", err)
	}
	defer rows.Close()
	type agreed struct {
		account string
		terms   pricing.Terms
	}
	var all []agreed
	for rows.Next() {
		var account, body string
		var version int
		var indexation bool
		if err := rows.Scan(&account, &version, &body, &indexation); err != nil {
			return err
		}
		a, _, err := buildAgreement(t, body)
		if err != nil {
			return fmt.Errorf("agreement of %s (version %d) no longer loads: %w", account, version, err)
		}
		all = append(all, agreed{account, pricing.Terms{Agreement: a, NoIndexation: !indexation}})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if s.credit != nil {
		for _, a := range all {
			s.credit.SetTerms(a.account, a.terms)
		}
	}
	return nil
}

// buildAgreement parses an agreed price list and builds it against t. Its errors name the line
// and column (and wrap pricing.ErrInvalidTariff). A list of the header alone ends the agreement:
// nil, the account pays the list prices again.
func buildAgreement(t *pricing.Tariffs, body string) (*pricing.Agreement, []pricing.PriceRow, error) {
	rows, err := pricing.ParsePrices(AgreementFile, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	a, err := t.NewAgreement(rows)
	if err != nil {
		return nil, nil, err
	}
	return a, rows, nil
}

// PutAgreement makes body (a price list in the prices.csv form) the account's agreed prices
// from the next event on (T&C 2.7): stored as its next version, the earlier ones kept. Sending
// the version in force again changes nothing (created false); a list of the header alone ends
// the agreement. A list that does not parse is refused whole, with the line and column of what
// is wrong.
func (s *Store) PutAgreement(ctx context.Context, account, body, by string, now time.Time) (billing.AgreementView, bool, error) {
	t := s.tariffs.Load()
	if t == nil {
		return billing.AgreementView{}, false, errors.New("agreements: no tariffs in use (UsePricing)")
	}
	if len(body) > MaxAgreementBytes {
		return billing.AgreementView{}, false, ledger.Errorf(ledger.CodeInvalid, "the price list is larger than %d bytes", MaxAgreementBytes)
	}
	agreement, rows, err := buildAgreement(t, body)
	if err != nil {
		return billing.AgreementView{}, false, ledger.Errorf(ledger.CodeInvalid, "agreed prices (T&C 2.7) refused: %v", err)
	}
	created := false
	err = s.inWrite(ctx, func() error {
		var status string
		var indexation bool
		err := s.write.QueryRowContext(ctx, `SELECT status, indexation FROM accounts WHERE id = ?`, account).Scan(&status, &indexation)
		if errors.Is(err, stdsql.ErrNoRows) {
			return ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", account)
		}
		if err != nil {
			return err
		}
		if status == string(ledger.Closed) {
			return ledger.Errorf(ledger.CodeConflict, "account %q is closed: it is charged nothing more (T&C 3.15, 10.7)", account)
		}
		var version int
		var current stdsql.NullString
		if err := s.write.QueryRowContext(ctx, `SELECT coalesce(max(version), 0),
			(SELECT body FROM price_agreements WHERE account_id = ? ORDER BY version DESC LIMIT 1)
			FROM price_agreements WHERE account_id = ?`, account, account).Scan(&version, &current); err != nil {
			return err
		}
		if current.Valid && current.String == body {
			return nil // in force already
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO price_agreements(account_id, version, rows, body, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?)`, account, version+1, len(rows), body, fmtTime(now), by); err != nil {
			return fmt.Errorf("record agreement: %w", err)
		}
		created = true
		if s.credit != nil {
			terms := pricing.Terms{Agreement: agreement, NoIndexation: !indexation}
			s.onCommit(func() { s.credit.SetTerms(account, terms) })
		}
		return nil
	})
	if err != nil {
		return billing.AgreementView{}, false, err
	}
	v, err := s.Agreement(ctx, account)
	return v, created, err
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
	if v.Rows, err = pricing.ParsePrices(AgreementFile, strings.NewReader(body)); err != nil {
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
