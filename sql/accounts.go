package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

type accountRow struct {
	Seq                  int64   `db:"seq"`
	ID                   string  `db:"id"`
	Name                 string  `db:"name"`
	Type                 string  `db:"type"`
	Status               string  `db:"status"`
	Country              string  `db:"country"`
	VATID                string  `db:"vat_id"`
	Email                string  `db:"email"`
	Street               string  `db:"street"`
	City                 string  `db:"city"`
	PostalCode           string  `db:"postal_code"`
	PeppolID             string  `db:"peppol_id"`
	CreditLimitMicros    int64   `db:"credit_limit_micros"`
	PaymentTermsDays     int     `db:"payment_terms_days"`
	Indexation           bool    `db:"indexation"`
	RegisteredAt         string  `db:"registered_at"`
	CreatedAt            string  `db:"created_at"`
	CreatedBy            string  `db:"created_by"`
	InvalidCallerIDCalls int64   `db:"invalid_caller_id_calls"`
	UnbilledMicros       int64   `db:"unbilled_micros"`
	OutstandingMicros    int64   `db:"outstanding_micros"`
	ClosedAt             instant `db:"closed_at"`
	ClosedReason         string  `db:"closed_reason"`
}

const accountSelect = `SELECT a.seq, a.id, a.name, a.type, a.status, a.country, a.vat_id, a.email,
	a.street, a.city, a.postal_code, a.peppol_id,
	a.credit_limit_micros, a.payment_terms_days, a.indexation, a.registered_at, a.created_at, a.created_by,
	a.invalid_caller_id_calls, coalesce(b.balance_micros, 0) AS unbilled_micros,
	coalesce((SELECT r.balance_micros FROM ledger_accounts r WHERE r.name = 'customer:' || a.id || ':receivable'), 0) AS outstanding_micros,
	a.closed_at, a.closed_reason
	FROM accounts a LEFT JOIN ledger_accounts b ON b.name = 'customer:' || a.id || ':unbilled'`

func (r accountRow) view() (billing.AccountView, error) {
	registered, err := parseTime(r.RegisteredAt)
	if err != nil {
		return billing.AccountView{}, fmt.Errorf("account %s registered_at: %w", r.ID, err)
	}
	created, err := parseTime(r.CreatedAt)
	if err != nil {
		return billing.AccountView{}, fmt.Errorf("account %s created_at: %w", r.ID, err)
	}
	return billing.AccountView{
		ClosedAt:     r.ClosedAt.Time,
		ClosedReason: r.ClosedReason,
		Account: ledger.Account{ID: r.ID, Name: r.Name, Type: ledger.AccountType(r.Type), Status: ledger.Status(r.Status),
			Country: r.Country, VATID: r.VATID, Email: r.Email, PeppolID: r.PeppolID,
			Address:          ledger.Address{Street: r.Street, City: r.City, PostalCode: r.PostalCode},
			CreditLimit:      money.Micros(r.CreditLimitMicros).Decimal(),
			PaymentTermsDays: r.PaymentTermsDays, Indexation: r.Indexation, RegisteredAt: registered,
			CreatedAt: created, CreatedBy: r.CreatedBy},
		Seq:                  r.Seq,
		Unbilled:             money.Micros(r.UnbilledMicros),
		Outstanding:          money.Micros(r.OutstandingMicros),
		InvalidCallerIDCalls: r.InvalidCallerIDCalls,
	}, nil
}

// CreateAccount stores a new account, or answers the one already under its id with
// created=false (billing.Service.CreateAccount compares the terms).
func (s *Store) CreateAccount(ctx context.Context, a ledger.Account) (view billing.AccountView, created bool, err error) {
	limit, err := money.ToMicros(a.CreditLimit)
	if err != nil {
		return billing.AccountView{}, false, ledger.Errorf(ledger.CodeInvalid, "credit_limit: %v", err)
	}
	err = s.inWrite(ctx, func() error {
		if err := s.insertAccount(ctx, a, limit); err != nil {
			return err
		}
		if _, err := s.ensureLedgerAccount(ctx, ledger.CustomerUnbilled(a.ID), a.ID); err != nil {
			return err
		}
		s.learnAccount(a, limit)
		s.learnPrepaid(a)
		return nil
	})
	if err != nil && !s.isUniqueViolation(err) {
		return billing.AccountView{}, false, fmt.Errorf("create account %s: %w", a.ID, err)
	}
	created = err == nil
	view, err = s.Account(ctx, a.ID)
	if err != nil {
		return billing.AccountView{}, false, err
	}
	return view, created, nil
}

// Account reads one account; ledger.CodeNotFound when there is none.
func (s *Store) Account(ctx context.Context, id string) (billing.AccountView, error) {
	var r accountRow
	err := s.db.GetContext(ctx, &r, accountSelect+` WHERE a.id = ?`, id)
	if errors.Is(err, stdsql.ErrNoRows) {
		return billing.AccountView{}, ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", id)
	}
	if err != nil {
		return billing.AccountView{}, fmt.Errorf("read account %s: %w", id, err)
	}
	return r.view()
}

// ChangeAccount changes an account's details (billing.AccountStore), read and written in one
// write transaction.
func (s *Store) ChangeAccount(ctx context.Context, id string, change func(ledger.Account) (ledger.Account, error)) (billing.AccountView, error) {
	err := s.inWrite(ctx, func() error {
		raw, err := s.write.QueryContext(ctx, accountSelect+` WHERE a.id = ?`, id)
		if err != nil {
			return err
		}
		rows := &sqlx.Rows{Rows: raw, Mapper: s.db.Mapper}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return ledger.Errorf(ledger.CodeNotFound, "account %q does not exist", id)
		}
		var r accountRow
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		v, err := r.view()
		if err != nil {
			return err
		}
		a, err := change(v.Account)
		if err != nil {
			return err
		}
		_, err = s.write.ExecContext(ctx, `UPDATE accounts SET name = ?, email = ?, vat_id = ?, street = ?, city = ?,
			postal_code = ?, peppol_id = ? WHERE id = ?`, a.Name, a.Email, a.VATID, a.Address.Street, a.Address.City,
			a.Address.PostalCode, a.PeppolID, id)
		return err
	})
	if err != nil {
		return billing.AccountView{}, err
	}
	return s.Account(ctx, id)
}

// Accounts lists accounts in creation order, after the cursor seq.
func (s *Store) Accounts(ctx context.Context, afterSeq int64, limit int) ([]billing.AccountView, error) {
	var rows []accountRow
	if err := s.db.SelectContext(ctx, &rows, accountSelect+` WHERE a.seq > ? ORDER BY a.seq LIMIT ?`, afterSeq, limit); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]billing.AccountView, 0, len(rows))
	for _, r := range rows {
		v, err := r.view()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Entries lists an account's journal entries whose transaction time is in [from, to), after
// the cursor id, oldest first. Each ledger account's entries form a chain from its newest entry
// back (entries.prev_id); the walk stops at the cursor or at from, so a page costs the entries
// newer than the cursor within the window, not a scan of the journal.
func (s *Store) Entries(ctx context.Context, account string, from, to time.Time, afterID int64, limit int) ([]billing.EntryView, error) {
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE chain(id) AS (
			SELECT last_entry_id FROM ledger_accounts WHERE account_id = ? AND last_entry_id IS NOT NULL
			UNION ALL
			SELECT e.prev_id FROM chain c JOIN entries e ON e.id = c.id JOIN transactions t ON t.id = e.transaction_id
			WHERE e.prev_id IS NOT NULL AND e.prev_id > ? AND t.at >= ?
		)
		SELECT e.id, e.transaction_id, t.kind, t.at, l.name, e.amount_micros, e.event_count, t.memo
		FROM chain c JOIN entries e ON e.id = c.id JOIN transactions t ON t.id = e.transaction_id
		JOIN ledger_accounts l ON l.id = e.ledger_account_id
		WHERE e.id > ? AND t.at >= ? AND t.at < ? ORDER BY e.id LIMIT ?`,
		account, afterID, fmtTime(from), afterID, fmtTime(from), fmtTime(to), limit)
	if err != nil {
		return nil, fmt.Errorf("list entries of %s: %w", account, err)
	}
	defer rows.Close()
	var out []billing.EntryView
	for rows.Next() {
		var e billing.EntryView
		var at string
		if err := rows.Scan(&e.ID, &e.TransactionID, &e.Kind, &at, &e.LedgerAccount, &e.Amount, &e.Events, &e.Memo); err != nil {
			return nil, err
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Balance returns a ledger account's balance (0 when it has none yet).
func (s *Store) Balance(ctx context.Context, ledgerAccount string) (money.Micros, error) {
	var b money.Micros
	err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT balance_micros FROM ledger_accounts WHERE name = ?), 0)`, ledgerAccount).Scan(&b)
	return b, err
}

// AccountUsage returns how many usage events were charged to an account and their total (a
// scan of the charges: for checks and tests, not for a hot path).
func (s *Store) AccountUsage(ctx context.Context, account string) (events int64, total money.Micros, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount_micros + surcharge_micros), 0) FROM charges
		WHERE account_id = ?`, account).Scan(&events, &total)
	return events, total, err
}

// CreateAccounts stores many new accounts in one transaction (bulk loads, benchmarks).
func (s *Store) CreateAccounts(ctx context.Context, accounts []ledger.Account) error {
	return s.inWrite(ctx, func() error {
		for _, a := range accounts {
			limit, err := money.ToMicros(a.CreditLimit)
			if err != nil {
				return err
			}
			if err := s.insertAccount(ctx, a, limit); err != nil {
				return fmt.Errorf("create account %s: %w", a.ID, err)
			}
			if _, err := s.ensureLedgerAccount(ctx, ledger.CustomerUnbilled(a.ID), a.ID); err != nil {
				return err
			}
			s.learnAccount(a, limit)
			s.learnPrepaid(a)
		}
		return nil
	})
}

// learnAccount puts a new account in the credit book once its transaction commits.
func (s *Store) learnAccount(a ledger.Account, limit money.Micros) {
	if s.credit == nil {
		return
	}
	c := ledger.Credit{Account: a.ID, Type: a.Type, Status: a.Status, Limit: limit}
	s.onCommit(func() {
		s.credit.Apply(c)
		if !a.Indexation {
			s.credit.SetTerms(a.ID, pricing.Terms{NoIndexation: true}) // T&C 3.4: the agreement opts out
		}
	})
}

func (s *Store) insertAccount(ctx context.Context, a ledger.Account, limit money.Micros) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO accounts(id, name, type, status, country, vat_id, email,
		street, city, postal_code, peppol_id,
		credit_limit_micros, payment_terms_days, indexation, registered_at, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, string(a.Type), string(a.Status), a.Country, a.VATID, a.Email,
		a.Address.Street, a.Address.City, a.Address.PostalCode, a.PeppolID, int64(limit),
		a.PaymentTermsDays, a.Indexation, fmtTime(a.RegisteredAt), fmtTime(a.CreatedAt), a.CreatedBy)
	return err
}

// UsageTotals returns the number of charged events and the sum of their charges.
func (s *Store) UsageTotals(ctx context.Context) (events int64, total money.Micros, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount_micros + surcharge_micros), 0) FROM charges`).Scan(&events, &total)
	return events, total, err
}

// Empty reports whether the database holds no charge and no parked event: a look at one row of
// each, not a count of them all (it is asked at every start).
func (s *Store) Empty(ctx context.Context) (empty bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM charges) AND NOT EXISTS (SELECT 1 FROM rejected)`).Scan(&empty)
	return empty, err
}
