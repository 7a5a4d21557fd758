package ledger

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
