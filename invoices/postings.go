package invoices

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"ledger/ledger"
	"ledger/money"
)

// IssueTransaction posts an issued invoice: the customer owes its total; the usage it bills
// leaves unbilled at what was charged (usageMicros), the rounding of its lines to cents goes
// to revenue:rounding, interest and collection costs are earned now, and the VAT is owed.
func IssueTransaction(inv Invoice, usageMicros money.Micros, at time.Time) (ledger.Transaction, error) {
	var usageNet, interest, costs decimal.Decimal
	for _, l := range inv.Lines {
		switch l.Kind {
		case LineInterest:
			interest = interest.Add(l.Amount)
		case LineCollectionCosts:
			costs = costs.Add(l.Amount)
		case LineUsage, LineSurcharge, LineProfessionalServices, LineTravel, LineMaterials:
			usageNet = usageNet.Add(l.Amount)
		default:
			return ledger.Transaction{}, fmt.Errorf("invoice %s: a billing run does not issue %s lines", inv.Number, l.Kind)
		}
	}
	tx := ledger.Transaction{Kind: ledger.KindInvoice, At: at, Memo: "invoice " + inv.Number}
	add := func(name, customer string, amount money.Micros) {
		if amount != 0 {
			tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: name, AccountID: customer, Amount: amount})
		}
	}
	add(ledger.CustomerReceivable(inv.Account), inv.Account, money.MustMicros(inv.Total))
	add(ledger.CustomerUnbilled(inv.Account), inv.Account, -usageMicros)
	add(ledger.RevenueRounding, "", usageMicros-money.MustMicros(usageNet))
	add(ledger.RevenueInterest, "", -money.MustMicros(interest))
	add(ledger.RevenueCollectionCosts, "", -money.MustMicros(costs))
	add(ledger.LiabilityVAT, "", -money.MustMicros(inv.Tax))
	return tx, tx.CheckBalanced()
}

// Allocation is part of a payment or a credit applied to one invoice.
type Allocation struct {
	Invoice string
	Amount  money.Micros
}

// PaymentTransaction posts a payment received: the bank has it; it settles the invoices it is
// allocated to, and what is left over is the customer's credit (R8).
func PaymentTransaction(account string, amount money.Micros, allocations []Allocation, at time.Time, memo string) (ledger.Transaction, error) {
	tx := ledger.Transaction{Kind: ledger.KindPayment, At: at, Memo: memo,
		Entries: []ledger.Entry{{LedgerAccount: ledger.CashBank, Amount: amount}}}
	var allocated money.Micros
	for _, a := range allocations {
		allocated += a.Amount
	}
	if allocated > amount {
		return ledger.Transaction{}, fmt.Errorf("payment of %s allocates %s", amount, allocated)
	}
	if allocated > 0 {
		tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: ledger.CustomerReceivable(account), AccountID: account, Amount: -allocated})
	}
	if rest := amount - allocated; rest > 0 {
		tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: ledger.CustomerCredit(account), AccountID: account, Amount: -rest})
	}
	return tx, tx.CheckBalanced()
}

// SetOffTransaction applies the customer's credit to one invoice (R8, T&C 3.10): each
// application is its own transaction.
func SetOffTransaction(account, invoice string, amount money.Micros, at time.Time) (ledger.Transaction, error) {
	tx := ledger.Transaction{Kind: ledger.KindSetOff, At: at, Memo: "credit set off against " + invoice, Entries: []ledger.Entry{
		{LedgerAccount: ledger.CustomerCredit(account), AccountID: account, Amount: amount},
		{LedgerAccount: ledger.CustomerReceivable(account), AccountID: account, Amount: -amount},
	}}
	return tx, tx.CheckBalanced()
}

// CreditNoteTransaction posts a credit note: revenue and VAT given back; what it credits leaves
// the receivable (toInvoice, the invoice's outstanding it settles) and the rest becomes the
// customer's credit.
func CreditNoteTransaction(cn CreditNote, toInvoice money.Micros, at time.Time) (ledger.Transaction, error) {
	total := money.MustMicros(cn.Total)
	tx := ledger.Transaction{Kind: ledger.KindCreditNote, At: at, Memo: "credit note " + cn.Number + " for " + cn.InvoiceNumber}
	add := func(name, customer string, amount money.Micros) {
		if amount != 0 {
			tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: name, AccountID: customer, Amount: amount})
		}
	}
	add(ledger.RevenueCreditNotes, "", money.MustMicros(cn.Net))
	add(ledger.LiabilityVAT, "", money.MustMicros(cn.Tax))
	add(ledger.CustomerReceivable(cn.Account), cn.Account, -toInvoice)
	add(ledger.CustomerCredit(cn.Account), cn.Account, -(total - toInvoice))
	return tx, tx.CheckBalanced()
}

// Payable is an invoice that can take money: what it has outstanding and not disputed.
type Payable struct {
	Invoice string
	Open    money.Micros
}

// Allocate places a payment of amount on an account's payable invoices (R5, T&C 3.7): on the
// invoice it names first (named, "" for none), then on the oldest due — open must be in that
// order — each taking at most what it has open. What no invoice takes is left over, the
// customer's credit (R8); Allocate returns it beside the allocations.
func Allocate(open []Payable, named string, amount money.Micros) (allocations []Allocation, left money.Micros) {
	order := open
	if named != "" {
		for i, p := range open {
			if p.Invoice == named {
				order = append(append([]Payable{p}, open[:i]...), open[i+1:]...)
				break
			}
		}
	}
	left = amount
	for _, p := range order {
		if left == 0 {
			break
		}
		a := min(left, p.Open)
		if a <= 0 {
			continue
		}
		allocations = append(allocations, Allocation{Invoice: p.Invoice, Amount: a})
		left -= a
	}
	return allocations, left
}
