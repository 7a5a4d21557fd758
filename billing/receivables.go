package billing

import (
	"context"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"strings"
	"time"
)

// NewPayment is a payment received (CONTRACT 3.2).
type NewPayment struct {
	ID         string
	Amount     money.Micros
	ReceivedAt time.Time
	Invoice    string // the invoice it names, if any
	SEPA       bool
}

// PaymentView is a recorded payment and where it went.
type PaymentView struct {
	ID, Account string
	Amount      money.Micros
	ReceivedAt  time.Time
	Invoice     string
	SEPA        bool
	Allocations []invoices.Allocation
	Credit      money.Micros // what was left over: the customer's credit (R8)
}

// InvoiceView is an issued invoice with where it stands.
type InvoiceView struct {
	invoices.Invoice
	Status       string
	Outstanding  money.Micros // total − payments − credits (invariant 4)
	Disputed     money.Micros
	OverdueSince string // date, "" unless overdue
	DueNow       string // date it became due at once on termination, if it did
}

// InvoiceFilter narrows a list of invoices; empty fields match all.
type InvoiceFilter struct {
	Account, Period, Status string
}

// NewDispute is a dispute of an invoice (CONTRACT 3.3): Amount is part of what the invoice asks
// to be paid, with VAT, as its total is; that much is held back while the dispute is open.
type NewDispute struct {
	ID     string
	Amount money.Micros
	Reason string
	At     time.Time
}

// DisputeView is a dispute and where it stands.
type DisputeView struct {
	ID, Invoice, Account string
	Amount               money.Micros // of the amount owed, with VAT
	Reason, Status       string
	OpenedAt, ResolvedAt time.Time
	CreditNote           string
}

// ReceivableStore keeps the invoices, credit notes, payments and disputes.
type ReceivableStore interface {
	Invoice(ctx context.Context, id string) (InvoiceView, error)
	Invoices(ctx context.Context, f InvoiceFilter, after string, limit int) ([]InvoiceView, error)
	CreditNote(ctx context.Context, id string) (invoices.CreditNote, error)
	CreditNotes(ctx context.Context, account, after string, limit int) ([]invoices.CreditNote, error)
	CreditNotesIssuedIn(ctx context.Context, period invoices.Period) ([]invoices.CreditNote, error)
	AddPayment(ctx context.Context, account string, p NewPayment, by string, now time.Time) (PaymentView, bool, error)
	OpenDispute(ctx context.Context, invoice string, d NewDispute, now time.Time) (DisputeView, bool, error)
	Dispute(ctx context.Context, id string) (DisputeView, error)
	ResolveDispute(ctx context.Context, id, outcome, by string, now time.Time) (DisputeView, error)
}

// AddPayment books a payment (R5, T&C 3.7, 3.9), received now unless it says when, and
// allocates it to the invoice it names or else the oldest open ones; what is left is the
// customer's credit. Idempotent on id.
func (s *Service) AddPayment(ctx context.Context, account string, p NewPayment, by string) (PaymentView, bool, error) {
	now := s.Now()
	if p.ReceivedAt.IsZero() {
		p.ReceivedAt = now
	}
	return s.Receivables.AddPayment(ctx, account, p, by, now)
}

// OpenDispute disputes (part of) an invoice, in writing and within its payment term (R7,
// T&C 3.11); the disputed amount is not due until the dispute is resolved. Made now unless it
// says when. Idempotent on id.
func (s *Service) OpenDispute(ctx context.Context, invoice string, d NewDispute) (DisputeView, bool, error) {
	d.Reason = strings.TrimSpace(d.Reason)
	if d.Reason == "" {
		return DisputeView{}, false, ledger.Errorf(ledger.CodeInvalid, "reason is required: a dispute is made in writing, saying why (T&C 3.11)")
	}
	now := s.Now()
	if d.At.IsZero() {
		d.At = now
	}
	return s.Receivables.OpenDispute(ctx, invoice, d, now)
}

// ResolveDispute closes a dispute (R7): accepted, a credit note for the disputed amount;
// rejected, the amount is due at once.
func (s *Service) ResolveDispute(ctx context.Context, id, outcome, by string) (DisputeView, error) {
	return s.Receivables.ResolveDispute(ctx, id, outcome, by, s.Now())
}
