package invoices_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/invoices"
)

func date(s string) clock.LocalDate {
	d, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The rates of the example interest.csv that the cases cross.
var rates = []invoices.Rate{
	{From: date("2024-01-01"), Annual: dec("0.125")},
	{From: date("2024-07-01"), Annual: dec("0.1225")},
	{From: date("2025-01-01"), Annual: dec("0.1115")},
	{From: date("2025-07-01"), Annual: dec("0.1015")},
	{From: date("2026-01-01"), Annual: dec("0.1015")},
}

func constant(amount string) func(clock.LocalDate) decimal.Decimal {
	return func(clock.LocalDate) decimal.Decimal { return dec(amount) }
}

// R6, T&C 3.8: daily interest at the rate in force each day, per day of its year, compounding yearly.
func TestInterest(t *testing.T) {
	for _, c := range []struct {
		name        string
		rates       []invoices.Rate
		first, last string
		overdue     func(clock.LocalDate) decimal.Decimal
		want        string
	}{
		// 1000 × 0.1015 × 30 / 365 = 8.3424…
		{"R6_30_days_one_rate", rates, "2026-04-16", "2026-05-15", constant("1000"), "8.34"},
		// 1000 × (0.1115 × 10 + 0.1015 × 10) / 365 = 5.8356…
		{"R6_across_a_rate_change", rates, "2025-06-21", "2025-07-10", constant("1000"), "5.84"},
		// 2024 is a leap year: 1000 × 0.1225 × 10 / 366 + 1000 × 0.1115 × 10 / 365 = 3.3470 + 3.0548 = 6.4018
		{"R6_across_a_year_end", rates, "2024-12-22", "2025-01-10", constant("1000"), "6.40"},
		// 10 % a year: 2025 bears 100.00; 2026 bears 10 % of 1100 = 110.00; together 210.00
		{"R6_compounds_yearly", []invoices.Rate{{From: date("2020-01-01"), Annual: dec("0.10")}}, "2025-01-01", "2026-12-31", constant("1000"), "210.00"},
		// 1000 for 10 days, then 400 after a payment of 600 for 20 days, at 10.15 % in 2026:
		// (1000 × 10 + 400 × 20) × 0.1015 / 365 = 18000 × 0.1015 / 365 = 5.0055
		{"R6_on_what_is_still_overdue", rates, "2026-04-16", "2026-05-15", func(d clock.LocalDate) decimal.Decimal {
			if d.Before(date("2026-04-26")) {
				return dec("1000")
			}
			return dec("400")
		}, "5.01"},
		{"R6_nothing_before_the_first_day", rates, "2026-04-16", "2026-04-15", constant("1000"), "0"},
		{"R6_nothing_on_nothing", rates, "2026-04-16", "2026-05-15", constant("0"), "0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := invoices.Interest(c.rates, date(c.first), date(c.last), c.overdue)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(dec(c.want)) {
				t.Errorf("interest = %s, want %s", got, c.want)
			}
		})
	}
	t.Run("R6_missing_rate_is_an_error", func(t *testing.T) {
		if _, err := invoices.Interest(rates, date("2023-12-30"), date("2024-01-02"), constant("1000")); err == nil {
			t.Error("interest before the first rate: want an error, got none")
		}
	})
}

// R7: a disputed net amount takes the VAT of the lines it falls on — the usage's first, then
// interest and costs, which bear none — and disputes in parts add up to the invoice's total.
func TestSplitDispute(t *testing.T) {
	nl, _ := invoices.VATFor("NL", "")
	noVAT := invoices.NoVAT(nl)
	mixed := invoices.Invoice{Number: "INV-2026-000002", VAT: nl, Net: dec("115.25"), Breakdown: []invoices.TaxSubtotal{
		{VAT: noVAT, Taxable: dec("40.25")}, {VAT: nl, Taxable: dec("75.00"), Tax: dec("15.75")}}}
	small := invoices.Invoice{Number: "INV-2026-000003", VAT: nl, Net: dec("0.15"), Breakdown: []invoices.TaxSubtotal{
		{VAT: nl, Taxable: dec("0.15"), Tax: dec("0.03")}}}
	type share struct{ category, net, gross string }
	for _, c := range []struct {
		name           string
		inv            invoices.Invoice
		before, amount string
		want           []share
	}{
		// 75.00 of usage with 21 % VAT (90.75), then 5.00 of the costs without
		{"R7_usage_first_then_costs", mixed, "0", "80", []share{{"S", "75", "90.75"}, {"E", "5", "5"}}},
		{"R7_costs_only_after_the_usage", mixed, "75", "10", []share{{"E", "10", "10"}}},
		// 0.03 → 0.03 + 0.0063 → 0.04; then 0.12: the whole 0.15 with VAT is 0.18, less 0.04 = 0.14
		{"R7_first_part", small, "0", "0.03", []share{{"S", "0.03", "0.04"}}},
		{"R7_last_part_completes_the_total", small, "0.03", "0.12", []share{{"S", "0.12", "0.14"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := invoices.SplitDispute(c.inv, dec(c.before), dec(c.amount))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("shares %+v, want %+v", got, c.want)
			}
			for i, w := range c.want {
				if got[i].VAT.Category != w.category || !got[i].Net.Equal(dec(w.net)) || !got[i].Gross.Equal(dec(w.gross)) {
					t.Errorf("share %d: %s %s %s, want %+v", i, got[i].VAT.Category, got[i].Net, got[i].Gross, w)
				}
			}
		})
	}
	if _, err := invoices.SplitDispute(small, dec("0.10"), dec("0.06")); err == nil {
		t.Error("disputing more than the net: want an error")
	}
}
