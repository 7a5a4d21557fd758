package invoices

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"ledger/ledger"
	"ledger/money"
)

// Standing is what is known of an issued invoice beside it in the store: its status and what is
// still owed of it.
type Standing struct {
	Status      string          // open, paid, overdue, disputed, credited (CONTRACT 3.3)
	Outstanding decimal.Decimal // total − payments − credits, never below zero (invariant 4)
}

// csvHeader names the columns of the bookkeeping export (R5). The VAT category tells the two
// 0 % cases apart, which the VAT return reports differently: AE reverse charge within the EU,
// O outside the scope of EU VAT.
var csvHeader = []string{
	"number", "account", "customer name", "country", "VAT ID", "period", "issue date", "due date",
	"currency", "net", "VAT rate", "VAT category", "VAT", "total", "outstanding", "status",
	"type", "corrects",
}

// Document types of the export's type column.
const (
	CSVInvoice    = "invoice"
	CSVCreditNote = "credit_note"
)

// WriteCSV writes the bookkeeping export of invs (R5: "CSV for bookkeeping"): a header, then one
// row per invoice in the order given, with its status and outstanding amount from standing,
// keyed by invoice number. Amounts have 2 decimals and a decimal point; the VAT rate is a
// fraction as in the API (0.21); dates are YYYY-MM-DD. Quoting follows RFC 4180, lines end in
// CRLF, the text is UTF-8. A name that a spreadsheet would take for a formula (=, +, -, @) is
// prefixed with an apostrophe. Only the invoices' own fields are read, not their lines.
//
// The credit notes follow the invoices (R5: "credit notes likewise"), so that an import
// balances: type credit_note, their amounts negative, corrects naming the invoice each one
// credits, no due date, outstanding 0.00 and status issued. An invoice's type is invoice.
//
// An invoice whose net and VAT do not make its total, or that has no standing, or a number seen
// twice, refuses the whole export: a bookkeeping file is right or is not written.
func WriteCSV(w io.Writer, invs []Invoice, standing map[string]Standing, notes ...CreditNote) error {
	rows := make([][]string, 0, len(invs)+1)
	rows = append(rows, csvHeader)
	seen := make(map[string]bool, len(invs))
	for _, inv := range invs {
		if err := checkDocument(seen, "invoice", inv.Number, inv.Net, inv.Tax, inv.Total); err != nil {
			return err
		}
		s, ok := standing[inv.Number]
		switch {
		case !ok:
			return ledger.Errorf(ledger.CodeInternal, "CSV export: invoice %s has no status", inv.Number)
		case s.Outstanding.IsNegative():
			return ledger.Errorf(ledger.CodeInternal, "CSV export: invoice %s: outstanding %s is below zero (invariant 4)",
				inv.Number, s.Outstanding)
		}
		for _, a := range []decimal.Decimal{inv.Net, inv.Tax, inv.Total, s.Outstanding} {
			if !a.Equal(money.RoundInvoice(a)) {
				return ledger.Errorf(ledger.CodeInternal, "CSV export: invoice %s: amount %s is not in cents (R5)", inv.Number, a)
			}
		}
		rows = append(rows, []string{
			inv.Number,
			csvText(inv.Account),
			csvText(inv.Customer.Name),
			csvText(inv.Customer.Country),
			csvText(inv.Customer.VATID),
			inv.Period.String(),
			inv.IssueDate.String(),
			inv.DueDate.String(),
			inv.Currency,
			money.FormatInvoice(inv.Net),
			inv.VAT.Rate.String(),
			inv.VAT.Category,
			money.FormatInvoice(inv.Tax),
			money.FormatInvoice(inv.Total),
			money.FormatInvoice(s.Outstanding),
			csvText(s.Status),
			CSVInvoice,
			"",
		})
	}
	for _, cn := range notes {
		if err := checkDocument(seen, "credit note", cn.Number, cn.Net, cn.Tax, cn.Total); err != nil {
			return err
		}
		rows = append(rows, []string{
			cn.Number,
			csvText(cn.Account),
			csvText(cn.Customer.Name),
			csvText(cn.Customer.Country),
			csvText(cn.Customer.VATID),
			PeriodOf(cn.IssueDate.Start()).String(),
			cn.IssueDate.String(),
			"",
			cn.Currency,
			money.FormatInvoice(cn.Net.Neg()),
			cn.VAT.Rate.String(),
			cn.VAT.Category,
			money.FormatInvoice(cn.Tax.Neg()),
			money.FormatInvoice(cn.Total.Neg()),
			money.FormatInvoice(decimal.Zero),
			"issued",
			CSVCreditNote,
			cn.InvoiceNumber,
		})
	}
	out := csv.NewWriter(w)
	out.UseCRLF = true
	if err := out.WriteAll(rows); err != nil {
		return fmt.Errorf("CSV export: %w", err)
	}
	return nil
}

// checkDocument refuses a document listed before, or whose net and VAT do not make its total
// (invariant 4), and marks it seen.
func checkDocument(seen map[string]bool, kind, number string, net, tax, total decimal.Decimal) error {
	switch {
	case seen[number]:
		return ledger.Errorf(ledger.CodeInternal, "CSV export: %s %s twice", kind, number)
	case !net.Add(tax).Equal(total):
		return ledger.Errorf(ledger.CodeInternal, "CSV export: %s %s: net %s + VAT %s is not its total %s (invariant 4)",
			kind, number, net, tax, total)
	}
	seen[number] = true
	return nil
}

// csvText keeps a text field from being read as a formula by a spreadsheet (CSV injection): a
// leading =, +, -, @, tab or carriage return gets an apostrophe before it.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
