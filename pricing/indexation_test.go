package pricing_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/pricing"
	"ledger/tariffs"
)

func day(s string) clock.LocalDate {
	d, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// indexed is the price of a row valid from validFrom as it stands at the start of day on, with
// the indexations it went through, under the CPI changes of the tariffs given.
func indexed(t *testing.T, tariffs *pricing.Tariffs, price, validFrom, on string) (decimal.Decimal, []pricing.Indexation, error) {
	t.Helper()
	row := pricing.PriceRow{Channel: pricing.ChannelSMS, UnitPrice: decimal.RequireFromString(price), ValidFrom: day(validFrom)}
	one, err := pricing.New([]pricing.PriceRow{row}, nil, tariffs.CPI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prices, err := one.PricesInForce(day(on).Start(), pricing.Terms{})
	if err != nil {
		return decimal.Zero, nil, err
	}
	if len(prices) != 1 {
		t.Fatalf("%d prices in force on %s, want the row", len(prices), on)
	}
	return prices[0].UnitPrice, prices[0].Indexations, nil
}

// R3, T&C 3.4: every 1 January a price is multiplied by 1 + the CPI change of the previous year,
// rounded to 6 decimals, compounding; a price taking effect on 1 January is a new base.
func TestIndexed(t *testing.T) {
	example, err := pricing.LoadFS(tariffs.Example())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, price, validFrom, on, want string
		years                            []int
	}{
		{"R3_new_base_on_1_January_not_indexed_that_year", "0.075", "2026-01-01", "2026-12-31", "0.075", nil},
		// 0.075 × 1.033 (CPI 2025) = 0.077475
		{"R3_indexed_on_the_next_1_January", "0.075", "2025-01-01", "2026-01-01", "0.077475", []int{2025}},
		{"R3_not_before_1_January", "0.075", "2025-01-01", "2025-12-31", "0.075", nil},
		// 2025: 0.075 × 1.033 (CPI 2024) = 0.077475; 2026: × 1.033 (CPI 2025) = 0.080031675 → 0.080032
		{"R3_compounds_over_years", "0.075", "2024-06-01", "2026-03-01", "0.080032", []int{2024, 2025}},
		// 2021: 0.01 × 1.013 = 0.01013; 2022: × 1.027 = 0.01040351 → 0.010404; 2023: × 1.100 = 0.0114444 → 0.011444
		{"R3_rounded_each_year_to_6_decimals", "0.01", "2020-01-01", "2023-01-01", "0.011444", []int{2020, 2021, 2022}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, done, err := indexed(t, example, c.price, c.validFrom, c.on)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(decimal.RequireFromString(c.want)) {
				t.Errorf("indexed %s, want %s", got, c.want)
			}
			if len(done) != len(c.years) {
				t.Fatalf("indexations %+v, want CPI years %v", done, c.years)
			}
			for i, y := range c.years {
				if done[i].Year != y || done[i].On != pricing.IndexationDay(y+1) {
					t.Errorf("indexation %d: %+v, want CPI %d on %d-01-01", i, done[i], y, y+1)
				}
			}
		})
	}
	t.Run("R3_missing_CPI_is_an_error_not_0_percent", func(t *testing.T) {
		_, _, err := indexed(t, example, "0.075", "2025-01-01", "2028-01-01")
		if !errors.Is(err, pricing.ErrMissingCPI) {
			t.Fatalf("indexing on 2028-01-01 without a CPI change of 2027: %v, want ErrMissingCPI", err)
		}
	})
}
