package invoices_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// R5, T&C 3.2: periods are calendar months in Europe/Amsterdam, across both DST changes.
func TestPeriodOf(t *testing.T) {
	for _, c := range []struct{ at, want string }{
		{"2026-03-31T21:59:59Z", "2026-03"}, // 23:59:59 CEST on 31 March
		{"2026-03-31T22:30:00Z", "2026-04"}, // 00:30 CEST on 1 April
		{"2026-02-28T22:59:59Z", "2026-02"}, // 23:59:59 CET
		{"2026-02-28T23:00:00Z", "2026-03"}, // 00:00 CET on 1 March
		{"2026-10-31T22:59:59Z", "2026-10"}, // winter time again since 25 October: 23:59:59 CET
		{"2026-10-31T23:00:00Z", "2026-11"},
		{"2026-12-31T23:00:00Z", "2027-01"},
	} {
		if got := invoices.PeriodOf(utc(c.at)).String(); got != c.want {
			t.Errorf("PeriodOf(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}

func TestPeriodBoundsAndDates(t *testing.T) {
	march, err := invoices.ParsePeriod("2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if got := march.Start(); !got.Equal(utc("2026-02-28T23:00:00Z")) {
		t.Errorf("March starts %s, want 00:00 CET on 1 March", got)
	}
	if got := march.End(); !got.Equal(utc("2026-03-31T22:00:00Z")) {
		t.Errorf("March ends %s, want 00:00 CEST on 1 April", got)
	}
	if invoices.PeriodOf(utc("2026-03-31T21:59:59Z")) != march || invoices.PeriodOf(utc("2026-03-31T22:00:00Z")) == march {
		t.Error("March contains its last second and not the first of April")
	}
	if got := march.IssueDate().String(); got != "2026-04-01" {
		t.Errorf("issue date %s, want 2026-04-01", got)
	}
	if got := invoices.DueDate(march.IssueDate(), ledger.DefaultPaymentTermsDays).String(); got != "2026-04-15" {
		t.Errorf("due date %s, want 2026-04-15 (T&C 3.7: 14 days)", got)
	}
	december, _ := invoices.ParsePeriod("2026-12")
	if got := december.IssueDate().String(); got != "2027-01-01" || december.Next().String() != "2027-01" {
		t.Errorf("December: issued %s, next %s", got, december.Next())
	}
	if got := invoices.DueDate(clock.LocalDate{Year: 2027, Month: time.January, Day: 1}, 45).String(); got != "2027-02-15" {
		t.Errorf("45 days after 1 January: %s", got)
	}
	if !march.Before(december) || december.Before(march) {
		t.Error("Before")
	}
	for _, bad := range []string{"2026-3", "2026-13", "March", "2026-03-01", ""} {
		if _, err := invoices.ParsePeriod(bad); ledger.ErrorCode(err) != ledger.CodeInvalid {
			t.Errorf("ParsePeriod(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestNumbers(t *testing.T) {
	if got := invoices.Number(2026, 1); got != "INV-2026-000001" {
		t.Errorf("Number = %s", got)
	}
	if got := invoices.Number(2027, 1234); got != "INV-2027-001234" {
		t.Errorf("Number = %s", got)
	}
	if got := invoices.CreditNoteNumber(2026, 7); got != "CN-2026-000007" {
		t.Errorf("CreditNoteNumber = %s", got)
	}
}

// R5: NL 21 %; EU with a VAT ID reverse charge (AE, VATEX-EU-AE) naming the VAT ID; outside
// the EU outside the scope (O); EU without a VAT ID refused.
func TestVATFor(t *testing.T) {
	nl, err := invoices.VATFor("NL", "")
	if err != nil || nl.Category != "S" || !nl.Rate.Equal(decimal.RequireFromString("0.21")) || nl.Note != "" {
		t.Errorf("NL: %+v, %v", nl, err)
	}
	be, err := invoices.VATFor("BE", "BE0123456789")
	if err != nil || be.Category != "AE" || !be.Rate.IsZero() || be.ExemptionCode != "VATEX-EU-AE" {
		t.Errorf("BE: %+v, %v", be, err)
	}
	if want := "Reverse charge"; len(be.Note) < len(want) || be.Note[:len(want)] != want {
		t.Errorf("BE note %q, want it to say Reverse charge", be.Note)
	}
	us, err := invoices.VATFor("US", "")
	if err != nil || us.Category != "O" || !us.Rate.IsZero() || us.ExemptionCode != "VATEX-EU-O" {
		t.Errorf("US: %+v, %v", us, err)
	}
	if _, err := invoices.VATFor("DE", ""); ledger.ErrorCode(err) != ledger.CodeRefused {
		t.Errorf("DE without VAT ID: %v, want refused (R5)", err)
	}
}

// R5, invariant 4: a line is its charges rounded to cents; VAT is the rate on the sum of the
// line amounts, rounded once; total = net + VAT.
func TestTotals(t *testing.T) {
	// 1,000 SMS at 0.075 = 75.00; VAT 15.75; total 90.75 (the public conformance example).
	nl, _ := invoices.VATFor("NL", "")
	totals := func(amounts []decimal.Decimal, vat invoices.VAT) (net, tax, total decimal.Decimal) {
		lines := make([]invoices.Line, len(amounts))
		for i, a := range amounts {
			lines[i] = invoices.Line{Amount: a}
		}
		_, net, tax, total = invoices.Breakdown(lines, vat)
		return net, tax, total
	}
	net, vat, total := totals([]decimal.Decimal{invoices.LineAmount(75_000_000)}, nl)
	if net.StringFixed(2) != "75.00" || vat.StringFixed(2) != "15.75" || total.StringFixed(2) != "90.75" {
		t.Errorf("net %s vat %s total %s", net, vat, total)
	}
	// Lines round on their own (0.005 up, half away from zero), VAT once on their sum:
	// 0.125000 → 0.13, 0.234999 → 0.23; net 0.36; 21 % = 0.0756 → 0.08; total 0.44.
	lines := []decimal.Decimal{invoices.LineAmount(125_000), invoices.LineAmount(234_999)}
	if lines[0].StringFixed(2) != "0.13" || lines[1].StringFixed(2) != "0.23" {
		t.Fatalf("line amounts %v", lines)
	}
	net, vat, total = totals(lines, nl)
	if net.StringFixed(2) != "0.36" || vat.StringFixed(2) != "0.08" || total.StringFixed(2) != "0.44" {
		t.Errorf("net %s vat %s total %s, want 0.36, 0.08, 0.44", net, vat, total)
	}
	be, _ := invoices.VATFor("BE", "BE0123456789")
	if _, vat, total := totals(lines, be); !vat.IsZero() || total.StringFixed(2) != "0.36" {
		t.Errorf("reverse charge: vat %s total %s", vat, total)
	}
	if got := invoices.LineAmount(money.Micros(-5_000)); got.StringFixed(2) != "-0.01" {
		t.Errorf("a credit of 0.005 rounds away from zero: %s", got)
	}
}

func TestAllocate(t *testing.T) {
	open := []invoices.Payable{{"INV-1", 10_000_000}, {"INV-2", 20_000_000}, {"INV-3", 5_000_000}} // oldest due first
	for _, tc := range []struct {
		name, named string
		amount      money.Micros
		want        string
		left        money.Micros
	}{
		{"R5_oldest_due_first", "", 15_000_000, "[{INV-1 10.00} {INV-2 5.00}]", 0},
		{"R5_the_named_invoice_first", "INV-3", 15_000_000, "[{INV-3 5.00} {INV-1 10.00}]", 0},
		{"T&C_3.7_partial_leaves_the_rest_open", "INV-2", 7_500_000, "[{INV-2 7.50}]", 0},
		{"R8_overpayment_is_credit", "", 40_000_000, "[{INV-1 10.00} {INV-2 20.00} {INV-3 5.00}]", 5_000_000},
		{"R8_nothing_open_all_credit", "", 1_000_000, "[]", 1_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := open
			if tc.name == "R8_nothing_open_all_credit" {
				in = nil
			}
			got, left := invoices.Allocate(in, tc.named, tc.amount)
			s := make([]string, len(got))
			for i, a := range got {
				s[i] = fmt.Sprintf("{%s %s}", a.Invoice, money.FormatInvoice(a.Amount.Decimal()))
			}
			if "["+strings.Join(s, " ")+"]" != tc.want || left != tc.left {
				t.Errorf("Allocate = %v, left %s; want %s, left %s", s, left, tc.want, tc.left)
			}
		})
	}
	if open[0].Invoice != "INV-1" || open[2].Invoice != "INV-3" {
		t.Errorf("Allocate reordered its input: %v", open)
	}
}

// R5, T&C 3.2: an invoice is dated the day it is really issued, never before its period's
// issue date and never back-dated.
func TestIssueDateAt(t *testing.T) {
	march := invoices.Period{Year: 2026, Month: time.March}
	for _, c := range []struct{ at, want string }{
		{"2026-03-31T22:00:00Z", "2026-04-01"}, // 00:00 on 1 April in Amsterdam: on time
		{"2026-04-01T08:00:00Z", "2026-04-01"},
		{"2026-04-03T21:59:59Z", "2026-04-03"}, // late: the day of the run
		{"2026-12-07T23:30:00Z", "2026-12-08"}, // the Amsterdam date, not UTC's
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := invoices.IssueDateAt(march, at).String(); got != c.want {
			t.Errorf("IssueDateAt(March, %s) = %s, want %s", c.at, got, c.want)
		}
	}
}
