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

// R7: a disputed amount owed is split over the invoice's VAT categories — the usage's first,
// then interest and costs, which bear none — and disputes in parts add up to its net and VAT.
func TestSplitDispute(t *testing.T) {
	nl, _ := invoices.VATFor("NL", "")
	noVAT := invoices.NoVAT(nl)
	mixed := invoices.Invoice{Number: "INV-2026-000002", VAT: nl, Net: dec("115.25"), Tax: dec("15.75"), Total: dec("131.00"),
		Breakdown: []invoices.TaxSubtotal{{VAT: noVAT, Taxable: dec("40.25")}, {VAT: nl, Taxable: dec("75.00"), Tax: dec("15.75")}}}
	small := invoices.Invoice{Number: "INV-2026-000003", VAT: nl, Net: dec("0.15"), Tax: dec("0.03"), Total: dec("0.18"),
		Breakdown: []invoices.TaxSubtotal{{VAT: nl, Taxable: dec("0.15"), Tax: dec("0.03")}}}
	type share struct{ category, net, tax string }
	for _, c := range []struct {
		name           string
		inv            invoices.Invoice
		before, amount string
		want           []share
	}{
		// the usage's 90.75 (75.00 + 15.75), then 5.00 of the costs
		{"R7_usage_first_then_costs", mixed, "0", "95.75", []share{{"S", "75", "15.75"}, {"E", "5", "0"}}},
		{"R7_costs_only_after_the_usage", mixed, "90.75", "10", []share{{"E", "10", "0"}}},
		// 30.25 / 1.21 = 25.00 exactly
		{"R7_part_of_the_usage", mixed, "0", "30.25", []share{{"S", "25", "5.25"}}},
		// 0.04 / 1.21 = 0.033 → 0.03 net, 0.01 VAT; the rest, 0.14: 0.15 − 0.03 = 0.12 net, 0.02 VAT
		// (0.12 × 0.21 = 0.0252: a cent off, within BR-CO-17), together exactly 0.15 and 0.03
		{"R7_first_part", small, "0", "0.04", []share{{"S", "0.03", "0.01"}}},
		{"R7_last_part_completes_the_total", small, "0.04", "0.14", []share{{"S", "0.12", "0.02"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := invoices.SplitDispute(c.inv, dec(c.before), dec(c.amount))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("shares %+v, want %+v", got, c.want)
			}
			sum := decimal.Zero
			for i, w := range c.want {
				if got[i].VAT.Category != w.category || !got[i].Net.Equal(dec(w.net)) || !got[i].Tax.Equal(dec(w.tax)) {
					t.Errorf("share %d: %s %s + %s, want %+v", i, got[i].VAT.Category, got[i].Net, got[i].Tax, w)
				}
				sum = sum.Add(got[i].Gross)
			}
			if !sum.Equal(dec(c.amount)) {
				t.Errorf("shares come to %s, want the disputed %s", sum, c.amount)
			}
		})
	}
	if _, err := invoices.SplitDispute(small, dec("0.10"), dec("0.09")); err == nil {
		t.Error("disputing more than the total: want an error")
	}
}
