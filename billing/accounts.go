package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"

	"github.com/shopspring/decimal"
)

// AccountView is an account with the balances the API shows.
type AccountView struct {
	ledger.Account
	Seq                  int64
	Unbilled             money.Micros
	Outstanding          money.Micros // what its invoices leave unpaid (R4, R5)
	InvalidCallerIDCalls int64
	ClosedAt             time.Time // zero unless closed
	ClosedReason         string
}

// EntryView is one journal entry on a customer's account, with its transaction.
type EntryView struct {
	ID            int64
	TransactionID int64
	Kind          string
	At            time.Time
	LedgerAccount string
	Amount        money.Micros
	Events        int
	Memo          string
}

// AgreementView is the agreement in force for an account: its newest version.
type AgreementView struct {
	Account   string
	Version   int
	Rows      []pricing.PriceRow
	CreatedAt time.Time
	CreatedBy string
	// Indexation is the account's: false exempts the agreed prices (and the list prices the
	// account pays) from R3 (T&C 3.4).
	Indexation bool
}

// CreditLimitChange is one recorded change of a credit limit.
type CreditLimitChange struct {
	Old, New money.Micros
	At       time.Time
	By       string
}

// AccountStore keeps the accounts, their credit limits and their journals.
type AccountStore interface {
	// CreateAccount opens an account, or answers the one already under its id (created false).
	CreateAccount(ctx context.Context, a ledger.Account) (view AccountView, created bool, err error)
	Account(ctx context.Context, id string) (AccountView, error)
	Accounts(ctx context.Context, afterSeq int64, limit int) ([]AccountView, error)
	Entries(ctx context.Context, account string, from, to time.Time, afterID int64, limit int) ([]EntryView, error)
	SetCreditLimit(ctx context.Context, account string, limit money.Micros, by string, at time.Time) error
	// ChangeAccount changes an account's details in one write transaction: change gets the
	// account as stored and returns it as it is to be (or refuses). Invoices issued before keep
	// what they printed.
	ChangeAccount(ctx context.Context, id string, change func(ledger.Account) (ledger.Account, error)) (AccountView, error)
	// WithTermination runs fn in one write transaction.
	WithTermination(ctx context.Context, fn func(tx TerminationTx) error) error
}

// TerminationTx is what ending an agreement reads and writes, inside one transaction.
type TerminationTx interface {
	AccountType(account string) (ledger.AccountType, error)
	// StagedPrepaid is a prepaid account's credit as the transaction stages it; nil for a
	// postpaid account.
	StagedPrepaid(account string) *ledger.PrepaidCredit
	// ClosePrepaid closes a prepaid account and marks it terminated.
	ClosePrepaid(p *ledger.PrepaidCredit, reason string, at time.Time) error
	// Terminated reports whether a postpaid account's agreement has ended already.
	Terminated(account string) (bool, error)
	// DueAtOnce makes the account's invoices with money outstanding due on day.
	DueAtOnce(account string, day clock.LocalDate) error
	// InvoiceableOf is what the account has open through period: usage, and interest and
	// collection costs through lastDay.
	InvoiceableOf(account string, period invoices.Period, lastDay clock.LocalDate) (Invoiceable, error)
	// Issue issues the final invoice, as BillingRunTx.Issue issues a run's (byRun false).
	Issue(d invoices.Draft, what Invoiceable, at time.Time, byRun bool) (number string, err error)
	// CloseTerminated closes the account (reason terminated), announces it and marks what is
	// now overdue (R6).
	CloseTerminated(account string, at, now time.Time) error
}

// AgreementStore keeps each account's agreed prices, versioned.
type AgreementStore interface {
	// WithAgreements runs fn in one write transaction.
	WithAgreements(ctx context.Context, fn func(tx AgreementTx) error) error
	Agreement(ctx context.Context, account string) (AgreementView, error)
}

// AgreementTx is what putting agreed prices reads and writes, inside one transaction.
type AgreementTx interface {
	// AccountTerms is the account's status and whether its prices are indexed (T&C 3.4);
	// ledger.CodeNotFound when there is no such account.
	AccountTerms(account string) (status ledger.Status, indexation bool, err error)
	// CurrentAgreement is the newest version and its list; ok false before the first.
	CurrentAgreement(account string) (version int, body string, ok bool, err error)
	// SaveAgreement records a new version and, once committed, puts its terms in force for
	// rating.
	SaveAgreement(d AgreementDecision) error
}

// AgreementDecision is a new version of an account's agreed prices.
type AgreementDecision struct {
	Account string
	Version int
	Rows    int
	Body    string
	Terms   pricing.Terms
	By      string
	At      time.Time
}

// MaxAgreementBytes is the largest agreed price list PUT /v1/accounts/{id}/prices takes (about
// 15,000 rows), the API's request limit.
const MaxAgreementBytes = 1 << 20

// Standing is an account's exposure and status as credit control holds them (R4): exposure is
// unbilled usage plus outstanding invoices (interest and costs are invoiced), less the
// customer's credit, kept by the credit book with every commit; for an account the book does
// not know, what the view's balances say.
func (s *Service) Standing(v AccountView) (exposure money.Micros, status ledger.Status) {
	if c, ok := s.Charging.Accounts.Get(v.ID); ok {
		return c.Exposure, c.Status
	}
	return v.Unbilled + v.Outstanding, v.Status
}

// CreateAccount opens an account on the terms asked (R4, T&C 3.6), registered now unless the
// request says when. Idempotent on the id: the same terms again answer the account (created
// false; a request that does not say when it registered matches any registration); other terms
// under a known id are a conflict.
func (s *Service) CreateAccount(ctx context.Context, req ledger.NewAccount, by string) (AccountView, bool, error) {
	a, err := req.Open(s.Now(), by)
	if err != nil {
		return AccountView{}, false, err
	}
	view, created, err := s.Accounts.CreateAccount(ctx, a)
	if err != nil || created {
		return view, created, err
	}
	if req.RegisteredAt == nil {
		a.RegisteredAt = view.RegisteredAt
	}
	if !view.Account.SameTerms(a) {
		return AccountView{}, false, ledger.Errorf(ledger.CodeConflict, "account %q exists with other terms", a.ID)
	}
	return view, false, nil
}

// SetCreditLimit raises, lowers or cancels (0) an account's credit limit with immediate effect
// (T&C 3.6). The limit is an invoice amount: rounded to the cent.
func (s *Service) SetCreditLimit(ctx context.Context, account string, amount decimal.Decimal, by string) (money.Micros, error) {
	if err := ledger.CheckLimit("amount", amount); err != nil {
		return 0, err
	}
	limit, err := money.ToMicros(amount)
	if err != nil {
		return 0, ledger.Errorf(ledger.CodeInvalid, "amount %s: %v", amount, err)
	}
	return limit, s.Accounts.SetCreditLimit(ctx, account, limit, by, s.Now())
}

// ChangeAccount changes an account's name, e-mail, VAT id, address or PEPPOL id (CONTRACT 3.1,
// PATCH): the result is held to the rules of an account's creation (R5 included). Invoices
// already issued keep what they printed; the next ones print the new details.
func (s *Service) ChangeAccount(ctx context.Context, id string, change ledger.AccountChange) (AccountView, error) {
	return s.Accounts.ChangeAccount(ctx, id, func(a ledger.Account) (ledger.Account, error) { return a.Change(change) })
}

// PutAgreement makes a price list in the prices.csv form the account's agreed prices from the
// next event on (T&C 2.7), stored as its next version, the earlier ones kept. A list that does
// not parse or build against the tariffs in use is refused whole, with the line and column of
// what is wrong; a list of the header alone ends the agreement; sending the list in force again
// changes nothing (created false). A closed account is charged nothing more and takes none.
func (s *Service) PutAgreement(ctx context.Context, account, body, by string) (AgreementView, bool, error) {
	if len(body) > MaxAgreementBytes {
		return AgreementView{}, false, ledger.Errorf(ledger.CodeInvalid, "the price list is larger than %d bytes", MaxAgreementBytes)
	}
	tariffs := s.Charging.Tariffs()
	if tariffs == nil {
		return AgreementView{}, false, errors.New("agreements: no tariffs in use")
	}
	agreement, rows, err := tariffs.BuildAgreement(body)
	if err != nil {
		return AgreementView{}, false, ledger.Errorf(ledger.CodeInvalid, "agreed prices (T&C 2.7) refused: %v", err)
	}
	now := s.Now()
	created := false
	err = s.Agreements.WithAgreements(ctx, func(tx AgreementTx) error {
		status, indexation, err := tx.AccountTerms(account)
		if err != nil {
			return err
		}
		if status == ledger.Closed {
			return ledger.Errorf(ledger.CodeConflict, "account %q is closed: it is charged nothing more (T&C 3.15, 10.7)", account)
		}
		version, current, ok, err := tx.CurrentAgreement(account)
		if err != nil || (ok && current == body) {
			if err == nil {
				auditRetry(ctx)
			}
			return err // in force already
		}
		created = true
		return tx.SaveAgreement(AgreementDecision{Account: account, Version: version + 1, Rows: len(rows), Body: body,
			Terms: pricing.Terms{Agreement: agreement, NoIndexation: !indexation}, By: by, At: now})
	})
	if err != nil {
		return AgreementView{}, false, err
	}
	v, err := s.Agreements.Agreement(ctx, account)
	return v, created, err
}

// Terminate ends an account's agreement (R13, T&C 10.7) at the instant at, or now when at is
// zero. Prepaid: the account is closed; what is left of its top-ups is not refunded (T&C 3.13).
// Postpaid: every open invoice is due at once and the unbilled usage is invoiced at once, due
// on issue. Either way the account is closed, so that later traffic is parked. Terminating
// again changes nothing.
func (s *Service) Terminate(ctx context.Context, account string, at time.Time, by string) error {
	now := s.Now()
	if at.IsZero() {
		at = now
	}
	if err := ledger.CheckTermination(at, now); err != nil {
		return err
	}
	// What fell due up to now first: the final invoice follows the last run.
	if _, err := s.RunDue(ctx, now); err != nil {
		return err
	}
	return s.Accounts.WithTermination(ctx, func(tx TerminationTx) error {
		if p := tx.StagedPrepaid(account); p != nil {
			// A prepaid agreement ends with its account closed; what is left of its top-ups is
			// not refunded (T&C 3.13), and nothing is invoiced.
			switch {
			case p.Closed && p.ClosedReason == ledger.ClosedTerminated:
				return nil // terminated already
			case p.Closed:
				return &ledger.Error{Code: ledger.CodeConflict, Clause: "T&C 10.7",
					Message: fmt.Sprintf("account %q is closed already (%s): there is no agreement left to terminate", account, p.ClosedReason)}
			}
			return tx.ClosePrepaid(p, ledger.ClosedTerminated, at)
		}
		typ, err := tx.AccountType(account)
		if err != nil {
			return err
		}
		if err := ledger.RequirePostpaid(account, typ, "terminations"); err != nil {
			return err
		}
		if done, err := tx.Terminated(account); err != nil || done {
			return err // terminating again changes nothing
		}
		// Postpaid: every open invoice is due at once; the unbilled usage, with interest and
		// collection costs through the day before, is invoiced at once, due on issue.
		day := clock.DateOf(at)
		if err := tx.DueAtOnce(account, day); err != nil {
			return err
		}
		if err := issueFinal(tx, account, at); err != nil {
			return err
		}
		// Closed either way, so that later traffic is parked.
		return tx.CloseTerminated(account, at, now)
	})
}

// issueFinal invoices at once, dated at, due on issue, what a terminated postpaid account has
// open: its unbilled usage, with interest and collection costs through the day before (R13,
// T&C 10.7); nothing when it has nothing open.
func issueFinal(tx TerminationTx, account string, at time.Time) error {
	day, period := clock.DateOf(at), invoices.PeriodOf(at)
	final, err := tx.InvoiceableOf(account, period, day.AddDays(-1))
	if err != nil || !final.somethingToInvoice() {
		return err
	}
	_, err = tx.Issue(invoices.Draft{Account: account, Customer: final.Customer, Period: period, IssueDate: day,
		DueOnIssue: true, VAT: final.VAT, Notes: final.Notes}, final, at, false)
	return err
}

// invoiceFinalUsage invoices at once, due on issue, what terminated postpaid accounts were
// charged for traffic of before their termination that arrived after it (R13, T&C 10.7: the
// unbilled usage of a terminated agreement is invoiced at once), as the final invoice was.
func (s *Service) invoiceFinalUsage(ctx context.Context, accounts []string) error {
	ctx = withoutAudit(ctx) // the ledger's doing, not the request's that replayed the events
	now := s.Now()
	for _, account := range accounts {
		err := s.Accounts.WithTermination(ctx, func(tx TerminationTx) error { return issueFinal(tx, account, now) })
		if err != nil {
			return fmt.Errorf("account %s: %w", account, err)
		}
	}
	return nil
}
