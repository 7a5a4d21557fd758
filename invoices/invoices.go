// Package invoices holds the rules of invoicing (R5–R8, T&C 3.2, 3.7–3.11): billing periods in
// Europe/Amsterdam, document numbers, VAT by customer and per line, how a draft becomes an
// issued invoice and how its lines add up, late-payment interest, how a dispute splits over VAT
// categories, the journal postings of invoices, payments, set-off and credit notes, and the
// UBL 2.1 / PEPPOL and CSV exports. It is pure, like package ledger: package sql keeps the
// invoices and runs the billing runs on it.
package invoices

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
)

// Period is a billing period: a calendar month in Europe/Amsterdam (R5, T&C 3.2).
type Period struct {
	Year  int
	Month time.Month
}

// PeriodOf returns the period an instant belongs to: 22:30 UTC on 31 March is 00:30 on 1 April
// in Amsterdam, so April.
func PeriodOf(t time.Time) Period {
	y, m, _ := t.In(clock.Amsterdam).Date()
	return Period{y, m}
}

// ParsePeriod reads YYYY-MM.
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Period{}, ledger.Errorf(ledger.CodeInvalid, "period %q is not a month YYYY-MM", s)
	}
	return Period{t.Year(), t.Month()}, nil
}

// String formats the period as YYYY-MM.
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month)) }

// Start is 00:00 Europe/Amsterdam on the first day of the period.
func (p Period) Start() time.Time {
	return clock.LocalDate{Year: p.Year, Month: p.Month, Day: 1}.Start()
}

// Next returns the following period.
func (p Period) Next() Period {
	if p.Month == time.December {
		return Period{p.Year + 1, time.January}
	}
	return Period{p.Year, p.Month + 1}
}

// End is the start of the next period (the period is [Start, End)).
func (p Period) End() time.Time { return p.Next().Start() }

// Before reports whether p is an earlier period than o.
func (p Period) Before(o Period) bool {
	return p.Year < o.Year || (p.Year == o.Year && p.Month < o.Month)
}

// IssueDate is the date a period's invoices are issued: the first day of the next month (R5:
// invoices for month M are issued at the start of month M+1).
func (p Period) IssueDate() clock.LocalDate {
	n := p.Next()
	return clock.LocalDate{Year: n.Year, Month: n.Month, Day: 1}
}

// IssueDateAt is the date an invoice of period p carries when it is issued at instant at: the
// day it is really issued (Europe/Amsterdam), and never before the period's issue date (R5,
// T&C 3.2). An invoice is not back-dated: a period invoiced late is dated the day of its run, so
// its due date (T&C 3.7) is one the customer really gets, and it is never overdue at birth (R6).
func IssueDateAt(p Period, at time.Time) clock.LocalDate {
	issue, today := p.IssueDate(), clock.DateOf(at)
	if issue.Before(today) {
		return today
	}
	return issue
}

// DueDate is the issue date plus the payment term in days (T&C 3.7: 14 unless the agreement
// says otherwise).
func DueDate(issue clock.LocalDate, termsDays int) clock.LocalDate { return issue.AddDays(termsDays) }

// Invoice numbers are one gap-free sequence per year: INV-2026-000001; credit notes have their
// own: CN-2026-000001.
const (
	numberPrefix     = "INV-"
	creditNotePrefix = "CN-"
)

// Number formats the seq-th invoice number of a year.
func Number(year int, seq int64) string { return fmt.Sprintf("%s%04d-%06d", numberPrefix, year, seq) }

// CreditNoteNumber formats the seq-th credit note number of a year.
func CreditNoteNumber(year int, seq int64) string {
	return fmt.Sprintf("%s%04d-%06d", creditNotePrefix, year, seq)
}

// VAT is how an invoice is taxed (R5): the UBL category, the rate, and what the invoice must say.
type VAT struct {
	Category      string          // UBL tax category: S standard, AE reverse charge, O outside the scope
	Rate          decimal.Decimal // 0.21, or 0
	Note          string          // the mention the invoice carries, if any
	ExemptionCode string          // UBL exemption reason code for a 0 % category
}

// DutchVATRate is the standard Dutch VAT rate.
var DutchVATRate = decimal.RequireFromString("0.21")

// VATFor decides the VAT of a customer (R5): in the Netherlands 21 %; a business in another EU
// country with a VAT ID 0 % under reverse charge (Directive 2006/112/EC art. 196), the invoice
// naming its VAT ID and saying "Reverse charge"; outside the EU 0 %, outside the scope of EU
// VAT. An EU customer outside the Netherlands without a VAT ID cannot be invoiced (it is
// refused at sign-up).
func VATFor(country, vatID string) (VAT, error) {
	switch {
	case country == "NL":
		return VAT{Category: "S", Rate: DutchVATRate}, nil
	case ledger.InEU(country) && vatID == "":
		return VAT{}, ledger.Refusef("R5, Directive 2006/112/EC art. 196",
			"a customer in %s (EU, outside the Netherlands) needs a VAT ID to be invoiced under reverse charge", country)
	case ledger.InEU(country):
		return VAT{Category: "AE", Rate: decimal.Zero, Note: "Reverse charge: VAT to be accounted for by the customer (" + vatID + "), Directive 2006/112/EC art. 196",
			ExemptionCode: "VATEX-EU-AE"}, nil
	default:
		return VAT{Category: "O", Rate: decimal.Zero, Note: "Outside the scope of EU VAT", ExemptionCode: "VATEX-EU-O"}, nil
	}
}

// LineAmount is what a line shows for the charges it groups: their sum, rounded to cents half
// away from zero (R5: line amount = sum of its charges rounded to 2 decimals).
func LineAmount(charges money.Micros) decimal.Decimal { return money.RoundInvoice(charges.Decimal()) }

// CheckEnded refuses to invoice a period before it has ended (R5, T&C 3.2): a month is
// invoiced from 00:00 Amsterdam on the first day of the next.
func (p Period) CheckEnded(now time.Time) error {
	if now.Before(p.End()) {
		return ledger.Errorf(ledger.CodeConflict, "period %s has not ended: it is invoiced from %s (R5, T&C 3.2)",
			p, p.End().In(clock.Amsterdam).Format(time.RFC3339))
	}
	return nil
}
