package money_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"ledger/money"
)

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// RULES.md: charges are kept to 6 decimals, invoice amounts to 2, rounding half away from zero.
func TestRounding(t *testing.T) {
	tests := []struct {
		name  string
		round func(decimal.Decimal) decimal.Decimal
		in    string
		want  string
	}{
		{"charge_half_up", money.RoundCharge, "0.0000005", "0.000001"},
		{"charge_half_negative_away_from_zero", money.RoundCharge, "-0.0000005", "-0.000001"},
		{"charge_below_half_down", money.RoundCharge, "0.00000049999", "0"},
		{"charge_below_half_negative_toward_zero", money.RoundCharge, "-0.00000049999", "0"},
		{"charge_above_half_up", money.RoundCharge, "0.0000015000001", "0.000002"},
		{"charge_even_half_still_away_not_to_even", money.RoundCharge, "0.0000025", "0.000003"},
		{"charge_negative_even_half_away", money.RoundCharge, "-0.0000025", "-0.000003"},
		{"charge_exact_kept", money.RoundCharge, "0.075", "0.075"},
		{"charge_many_decimals", money.RoundCharge, "0.0123456789", "0.012346"},
		{"invoice_half_up", money.RoundInvoice, "0.005", "0.01"},
		{"invoice_half_negative_away_from_zero", money.RoundInvoice, "-0.005", "-0.01"},
		{"invoice_even_half_still_away", money.RoundInvoice, "0.125", "0.13"},
		{"invoice_below_half", money.RoundInvoice, "90.7449999", "90.74"},
		{"invoice_VAT_on_75_at_21_percent", money.RoundInvoice, "15.75", "15.75"},
		{"invoice_negative_below_half", money.RoundInvoice, "-2.344", "-2.34"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.round(dec(t, tc.in)); !got.Equal(dec(t, tc.want)) {
				t.Errorf("round(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// Storage keeps whole micro-euros: an amount with more than 6 decimals was not rounded at a
// named point, and converting it would lose money silently.
func TestToMicros(t *testing.T) {
	ok := []struct {
		in   string
		want money.Micros
	}{
		{"0.075", 75000},
		{"0.15", 150000},
		{"0.0750000", 75000}, // trailing zeros are not decimals that matter
		{"-0.000001", -1},
		{"0", 0},
		{"5000", 5_000_000_000},
		{"1000000000000", 1_000_000_000_000_000_000}, // 10^12 EUR, the limit
	}
	for _, tc := range ok {
		got, err := money.ToMicros(dec(t, tc.in))
		if err != nil || got != tc.want {
			t.Errorf("ToMicros(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"0.0000001", "1.2345678", "-0.0000005", "1000000000000.000001", "99999999999999999999"} {
		if got, err := money.ToMicros(dec(t, in)); err == nil {
			t.Errorf("ToMicros(%s) = %d, want an error", in, got)
		}
	}
	t.Run("MustMicros_panics_on_7_decimals", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		money.MustMicros(dec(t, "0.0000001"))
	})
}

func TestMicrosString(t *testing.T) {
	tests := []struct {
		in   money.Micros
		want string
	}{
		{0, "0.000000"},
		{1, "0.000001"},
		{-1, "-0.000001"},
		{75000, "0.075000"},
		{150000, "0.150000"},
		{-150000, "-0.150000"},
		{-1_500_000, "-1.500000"},
		{-999_999, "-0.999999"},
		{5_000_000_000, "5000.000000"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Micros(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		if got := tc.in.Decimal().StringFixed(6); got != tc.want {
			t.Errorf("Micros(%d).Decimal() = %s, want %s", int64(tc.in), got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	if got := money.FormatCharge(dec(t, "0.075")); got != "0.075000" {
		t.Errorf("FormatCharge(0.075) = %s, want 0.075000", got)
	}
	if got := money.FormatInvoice(dec(t, "5000")); got != "5000.00" {
		t.Errorf("FormatInvoice(5000) = %s, want 5000.00", got)
	}
	if got := money.FormatInvoice(dec(t, "-0.005")); got != "-0.01" {
		t.Errorf("FormatInvoice(-0.005) = %s, want -0.01 (half away from zero)", got)
	}
}

// Money is never guessed: Parse takes plain decimals only.
func TestParse(t *testing.T) {
	ok := map[string]string{
		"12.50":    "12.5",
		"0.075":    "0.075",
		"-1.00":    "-1",
		"+5":       "5",
		"7500":     "7500",
		"0.000001": "0.000001",
	}
	for in, want := range ok {
		got, err := money.Parse(in)
		if err != nil || !got.Equal(dec(t, want)) {
			t.Errorf("Parse(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"1e3", "1E3", "", "abc", " 1", "1 ", "1,50", "1.2.3", "-", "+", ".", "--1", "1-", "0x10", "١٢", "NaN", "Inf", "€5"} {
		if got, err := money.Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, got)
		}
	}
}

// The allocation-free path of ToMicros agrees with the general one, and never overflows.
func TestToMicrosFastPathAgrees(t *testing.T) {
	for _, s := range []string{"0", "1", "0.000001", "-0.000001", "123.456789", "999999999999", "9999999999999", "0.1", "-42.5",
		"999999999999.999999", "1000000000000.5"} {
		d := decimal.RequireFromString(s)
		got, err := money.ToMicros(d)
		want := d.Shift(money.ChargeDecimals)
		if err != nil {
			if want.IsInteger() && want.Abs().LessThanOrEqual(decimal.New(1, 18)) {
				t.Errorf("ToMicros(%s): %v", s, err)
			}
			continue
		}
		if !decimal.NewFromInt(int64(got)).Equal(want) {
			t.Errorf("ToMicros(%s) = %d, want %s", s, got, want)
		}
	}
}
