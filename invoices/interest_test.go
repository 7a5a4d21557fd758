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
