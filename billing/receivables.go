package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
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
	// WithReceivables runs fn in one write transaction: what fn reads through the tx sees the
	// writes before it, and what it writes commits together or not at all. Transactions are
	// serialised, so copies of one request arriving together are decided one after the other.
	WithReceivables(ctx context.Context, fn func(tx ReceivableTx) error) error
	Payment(ctx context.Context, account, id string) (PaymentView, error)
	Dispute(ctx context.Context, id string) (DisputeView, error)
}

// ReceivableTx is what booking a payment and deciding a dispute read and write, inside one
// transaction.
type ReceivableTx interface {
	PaymentExists(account, id string) (bool, error)
	// AccountType is ledger.CodeNotFound when there is no such account.
	AccountType(account string) (ledger.AccountType, error)
	// InvoiceAccount is the account an invoice was issued to; ledger.CodeNotFound when there is
	// no such invoice.
	InvoiceAccount(invoice string) (string, error)
	// Payables are the account's invoices with an undisputed amount outstanding, oldest due
	// first.
	Payables(account string) ([]invoices.Payable, error)
	// SavePayment books a decided payment: its journal transaction, the payment, the
	// settlement of each invoice it pays (and the notice of one paid in full), credit control.
	SavePayment(d PaymentDecision) error

	DisputeExists(id string) (bool, error)
	// InvoiceStanding is what an invoice owes, read to be changed; ledger.CodeNotFound when
	// there is no such invoice.
	InvoiceStanding(invoice string) (InvoiceStanding, error)
	// SaveDispute records an admitted dispute and holds its amount back on the invoice.
	SaveDispute(s InvoiceStanding, d NewDispute) error
	// DisputeForUpdate reads a dispute to be resolved; ledger.CodeNotFound when there is none.
	DisputeForUpdate(id string) (DisputeView, error)
	// SaveResolution closes an open dispute: the amount no longer held back, and, accepted, a
	// credit note for it (with the invoice's VAT, invoices.SplitDispute); then the customer's
	// credit set off (R8) and what is now overdue marked so (R6).
	SaveResolution(d DisputeView, outcome string, at time.Time) error
}

// InvoiceStanding is what an invoice owes, as deciding a dispute needs it.
type InvoiceStanding struct {
	Invoice, Account string
	// Due is the date it is due: its due date, or the day its agreement ended (R13).
	Due clock.LocalDate
	// Open is what it has outstanding and not disputed.
	Open money.Micros
}

// PaymentDecision is a payment as decided, for the store to record.
type PaymentDecision struct {
	Account     string
	Payment     NewPayment
	Allocations []invoices.Allocation
	Transaction ledger.Transaction
	By          string
	At          time.Time
}

// AddPayment books a payment (R5, T&C 3.7, 3.9), received now unless it says when: allocated
// to the invoice it names, then to the oldest due (invoices.Allocate); a partial payment leaves
// the rest open, and a non-SEPA payment settles only what was received. What is left over is
// the customer's credit, set off against the next invoices (R8). Idempotent on the payment id:
// the same payment again answers what the first request booked (created false); the same id
// with other terms is a conflict.
func (s *Service) AddPayment(ctx context.Context, account string, p NewPayment, by string) (PaymentView, bool, error) {
	now := s.Now()
	// received_at left out is now: a retry a moment later is the same payment, not a conflict.
	receivedGiven := !p.ReceivedAt.IsZero()
	if !receivedGiven {
		p.ReceivedAt = now
	}
	if err := ledger.CheckRecord(p.ID, p.Amount, "received_at", p.ReceivedAt, now); err != nil {
		return PaymentView{}, false, err
	}
	// What fell due up to now first, so that the payment finds the invoices issued by then.
	if _, err := s.RunDue(ctx, now); err != nil {
		return PaymentView{}, false, err
	}
	created := false
	err := s.Receivables.WithReceivables(ctx, func(tx ReceivableTx) error {
		if exists, err := tx.PaymentExists(account, p.ID); err != nil || exists {
			if exists {
				auditRetry(ctx)
			}
			return err // a retry: answered below with what the first request booked
		}
		created = true
		typ, err := tx.AccountType(account)
		if err != nil {
			return err
		}
		if err := ledger.RequirePostpaid(account, typ, "payments"); err != nil {
			return err
		}
		if p.Invoice != "" {
			if owner, err := tx.InvoiceAccount(p.Invoice); ledger.ErrorCode(err) == ledger.CodeNotFound || (err == nil && owner != account) {
				return ledger.Errorf(ledger.CodeNotFound, "account %q has no invoice %q", account, p.Invoice)
			} else if err != nil {
				return err
			}
		}
		open, err := tx.Payables(account)
		if err != nil {
			return err
		}
		allocations, _ := invoices.Allocate(open, p.Invoice, p.Amount)
		memo := fmt.Sprintf("payment %s of %s", p.ID, account)
		if !p.SEPA {
			memo += " (non-SEPA: settles what was received, T&C 3.9)"
		}
		posting, err := invoices.PaymentTransaction(account, p.Amount, allocations, p.ReceivedAt, memo)
		if err != nil {
			return err
		}
		return tx.SavePayment(PaymentDecision{Account: account, Payment: p, Allocations: allocations, Transaction: posting, By: by, At: now})
	})
	if err != nil {
		return PaymentView{}, false, err
	}
	v, err := s.Receivables.Payment(ctx, account, p.ID)
	if err == nil && !created && (v.Amount != p.Amount || (receivedGiven && !v.ReceivedAt.Equal(p.ReceivedAt)) || v.Invoice != p.Invoice || v.SEPA != p.SEPA) {
		return PaymentView{}, false, ledger.Errorf(ledger.CodeConflict, "payment %q exists with other terms", p.ID)
	}
	return v, created, err
}

// OpenDispute disputes (part of) an invoice, in writing and within its payment term (R7,
// T&C 3.11); the disputed amount is not due until the dispute is resolved. Made now unless it
// says when. Idempotent on id: the same dispute again answers what was recorded (created
// false); the same id with other terms is a conflict.
func (s *Service) OpenDispute(ctx context.Context, invoice string, d NewDispute) (DisputeView, bool, error) {
	d.Reason = strings.TrimSpace(d.Reason)
	if d.Reason == "" {
		return DisputeView{}, false, ledger.Errorf(ledger.CodeInvalid, "reason is required: a dispute is made in writing, saying why (T&C 3.11)")
	}
	now := s.Now()
	if d.At.IsZero() {
		d.At = now
	}
	if err := ledger.CheckRecord(d.ID, d.Amount, "at", d.At, now); err != nil {
		return DisputeView{}, false, err
	}
	if _, err := s.RunDue(ctx, now); err != nil {
		return DisputeView{}, false, err
	}
	created := false
	err := s.Receivables.WithReceivables(ctx, func(tx ReceivableTx) error {
		if exists, err := tx.DisputeExists(d.ID); err != nil || exists {
			if exists {
				auditRetry(ctx)
			}
			return err // a retry: answered below with what the first request recorded
		}
		created = true
		standing, err := tx.InvoiceStanding(invoice)
		if err != nil {
			return err
		}
		AuditAccount(ctx, standing.Account)
		if err := ledger.AdmitDispute(invoice, standing.Due, clock.DateOf(d.At), standing.Open, d.Amount); err != nil {
			return err
		}
		return tx.SaveDispute(standing, d)
	})
	if err != nil {
		return DisputeView{}, false, err
	}
	v, err := s.Receivables.Dispute(ctx, d.ID)
	if err == nil && !created && (v.Invoice != invoice || v.Amount != d.Amount || v.Reason != d.Reason) {
		return DisputeView{}, false, ledger.Errorf(ledger.CodeConflict, "dispute %q exists with other terms", d.ID)
	}
	return v, created, err
}

// ResolveDispute closes a dispute (R7): accepted, a credit note for the disputed amount;
// rejected, the amount is due at once, with interest from the original due date. Resolving it
// again the same way answers the dispute as it is; the other way is a conflict. The dispute is
// read and closed in one transaction, so two resolutions arriving together close it once.
func (s *Service) ResolveDispute(ctx context.Context, id, outcome, by string) (DisputeView, error) {
	if err := ledger.CheckDisputeOutcome(outcome); err != nil {
		return DisputeView{}, err
	}
	now := s.Now()
	if _, err := s.RunDue(ctx, now); err != nil {
		return DisputeView{}, err
	}
	err := s.Receivables.WithReceivables(ctx, func(tx ReceivableTx) error {
		v, err := tx.DisputeForUpdate(id)
		if err != nil {
			return err
		}
		AuditAccount(ctx, v.Account)
		switch v.Status {
		case "open":
			return tx.SaveResolution(v, outcome, now)
		case outcome:
			return nil
		}
		return ledger.Errorf(ledger.CodeConflict, "dispute %q was %s already", id, v.Status)
	})
	if err != nil {
		return DisputeView{}, err
	}
	return s.Receivables.Dispute(ctx, id)
}
