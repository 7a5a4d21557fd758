package ledger

import (
	"time"

	"ledger/clock"
	"ledger/money"
)

// Ledger accounts of invoicing (R5–R8).

// CustomerReceivable is the ledger account of a customer's issued invoices not yet settled (an
// asset, debit positive): Σ of their outstanding amounts.
func CustomerReceivable(account string) string { return "customer:" + account + ":receivable" }

// CustomerCredit is what the provider owes a customer: overpayments not yet set off (R8; a
// liability, credit negative).
func CustomerCredit(account string) string { return "customer:" + account + ":credit" }

// Provider ledger accounts of invoicing.
const (
	// RevenueRounding takes the difference between the charges (6 decimals) and the line
	// amounts invoiced for them (2 decimals, R5).
	RevenueRounding        = "revenue:rounding"
	RevenueInterest        = "revenue:interest"         // late-payment interest (R6)
	RevenueCollectionCosts = "revenue:collection_costs" // R6
	RevenueCreditNotes     = "revenue:credit_notes"     // revenue given back by credit notes (R7)
	LiabilityVAT           = "liability:vat"            // VAT invoiced, owed to the tax office
	CashBank               = "asset:cash:bank"          // payments received
)

// Subjects of invoice events (CONTRACT 5), with invoice_id, total, outstanding and due_date.
const (
	SubjectInvoiceIssued  = "billing.invoice.issued"
	SubjectInvoiceOverdue = "billing.invoice.overdue"
	SubjectInvoicePaid    = "billing.invoice.paid"
)

// ClosedTerminated is the reason of billing.account.closed on termination (R13, T&C 10.7).
const ClosedTerminated = "terminated"

// Transaction kinds of invoicing.
const (
	KindInvoice    = "invoice"
	KindPayment    = "payment"
	KindSetOff     = "set_off" // R8: the customer's credit applied to an invoice
	KindCreditNote = "credit_note"
)

// AdmitDispute decides whether a dispute of amount, made on day, may be opened against an
// invoice due on due that has open outstanding and not yet disputed (R7, T&C 3.11): in writing
// within the payment term — on or before the due date — and for no more than is open. The
// disputed amount is then held back: neither overdue nor bearing interest while open.
func AdmitDispute(invoice string, due, day clock.LocalDate, open, amount money.Micros) error {
	if amount <= 0 {
		return Errorf(CodeInvalid, "a dispute of invoice %s must be of an amount > 0 (R7)", invoice)
	}
	if due.Before(day) {
		return Refusef("T&C 3.11", "invoice %s was due on %s: it can be disputed only within the payment term, on or before the due date (disputed on %s)",
			invoice, due, day)
	}
	if amount > open {
		return Errorf(CodeConflict, "invoice %s has %s EUR outstanding and not disputed: a dispute of %s EUR exceeds it (R7)",
			invoice, money.FormatInvoice(open.Decimal()), money.FormatInvoice(amount.Decimal()))
	}
	return nil
}

// Outcomes of a dispute (R7): accepted, a credit note for the disputed amount; rejected, the
// amount is due at once, with interest from the original due date.
const (
	DisputeAccepted = "accepted"
	DisputeRejected = "rejected"
)

// CheckDisputeOutcome refuses an outcome other than accepted or rejected (R7).
func CheckDisputeOutcome(outcome string) error {
	if outcome != DisputeAccepted && outcome != DisputeRejected {
		return Errorf(CodeInvalid, "outcome must be accepted (a credit note) or rejected (due at once), not %q (R7)", outcome)
	}
	return nil
}

// RequirePostpaid refuses what only a postpaid account can have (what: "payments",
// "disputes", …): postpaid accounts are invoiced (R5); prepaid accounts pay by top-up (R9).
func RequirePostpaid(account string, typ AccountType, what string) error {
	if typ != Postpaid {
		return Errorf(CodeConflict, "account %q is %s: %s are for postpaid accounts, which are invoiced (R5); prepaid accounts pay by top-up (R9)", account, typ, what)
	}
	return nil
}

// CheckTermination refuses a termination dated after now (R13, T&C 10.7): an agreement is
// terminated on the day it ends, not ahead of it.
func CheckTermination(at, now time.Time) error {
	if at.After(now) {
		return Errorf(CodeInvalid, "at %s is in the future: terminate on the day the agreement ends (R13, T&C 10.7)", at.Format(time.RFC3339))
	}
	return nil
}

// CheckRecord checks what a payment or a dispute is recorded under: its id, an amount above 0,
// and a time (the named field) not after now.
func CheckRecord(id string, amount money.Micros, field string, at, now time.Time) error {
	switch {
	case !ValidRecordID(id):
		return Errorf(CodeInvalid, "id must be 1–%d printable characters", MaxRecordIDLength)
	case amount <= 0:
		return Errorf(CodeInvalid, "amount must be more than 0")
	case at.After(now):
		return Errorf(CodeInvalid, "%s %s is in the future", field, at.Format(time.RFC3339))
	}
	return CheckInstant(field, at)
}
