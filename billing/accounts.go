package billing

import (
	"context"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
	"time"

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
	// Terminate ends an agreement at the instant at: the final usage is invoiced at once, due
	// on issue (R13, T&C 10.7).
	Terminate(ctx context.Context, account string, at time.Time, by string, now time.Time) error
}

// AgreementStore keeps each account's agreed prices, versioned.
type AgreementStore interface {
	PutAgreement(ctx context.Context, account, body, by string, now time.Time) (AgreementView, bool, error)
	Agreement(ctx context.Context, account string) (AgreementView, error)
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
	if amount.IsNegative() {
		return 0, ledger.Errorf(ledger.CodeInvalid, "amount %s must be an amount ≥ 0 (0 cancels the credit, T&C 3.6)", amount)
	}
	limit, err := money.ToMicros(money.RoundInvoice(amount))
	if err != nil {
		return 0, ledger.Errorf(ledger.CodeInvalid, "amount %s: %v", amount, err)
	}
	return limit, s.Accounts.SetCreditLimit(ctx, account, limit, by, s.Now())
}

// PutAgreement makes a price list in the prices.csv form the account's agreed prices from now
// (T&C 2.7); a wrong list is refused whole, naming each wrong line. Sending the list in force
// again is answered with it (created false).
func (s *Service) PutAgreement(ctx context.Context, account, body, by string) (AgreementView, bool, error) {
	return s.Agreements.PutAgreement(ctx, account, body, by, s.Now())
}

// Terminate ends an account's agreement (R13, T&C 10.7) at the instant at, or now when at is
// zero.
func (s *Service) Terminate(ctx context.Context, account string, at time.Time, by string) error {
	now := s.Now()
	if at.IsZero() {
		at = now
	}
	return s.Accounts.Terminate(ctx, account, at, by, now)
}
