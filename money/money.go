// Package money holds the ledger's rounding rules and the exact integer form amounts take in
// storage. Every amount is a decimal.Decimal in the domain; rounding happens only through the
// helpers here, at the two points RULES.md names: charges to 6 decimals, invoice amounts to 2,
// half away from zero.
package money

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// ChargeDecimals is the precision of a rated charge (RULES.md: "Charges are kept to 6 decimals").
const ChargeDecimals = 6

// InvoiceDecimals is the precision of invoice amounts.
const InvoiceDecimals = 2

// microsPerEUR is 10^ChargeDecimals: storage keeps amounts as whole micro-euros.
const microsPerEUR = 1_000_000

// RoundCharge rounds a charge to 6 decimals, half away from zero.
func RoundCharge(d decimal.Decimal) decimal.Decimal { return d.Round(ChargeDecimals) }

// RoundInvoice rounds an invoice amount to 2 decimals, half away from zero.
func RoundInvoice(d decimal.Decimal) decimal.Decimal { return d.Round(InvoiceDecimals) }

// Micros is an exact amount in micro-euros (10^-6 EUR): the form amounts take in the
// database and in per-batch sums, where integer arithmetic is exact and fast.
type Micros int64

// ToMicros converts an amount that is already rounded to at most 6 decimals. An amount with
// more decimals is a programming error (rounding must happen at a named point first).
func ToMicros(d decimal.Decimal) (Micros, error) {
	// The usual case without allocating: a coefficient of at most 18 digits and an exponent
	// from -6 to 0 (rated charges are built as coefficient × 10^-6).
	if exp := d.Exponent(); exp >= -ChargeDecimals && exp <= 0 && d.NumDigits()+int(exp)+ChargeDecimals <= 18 {
		m := d.CoefficientInt64()
		for ; exp > -ChargeDecimals; exp-- {
			m *= 10
		}
		return Micros(m), nil
	}
	shifted := d.Shift(ChargeDecimals)
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, fmt.Errorf("money: %s has more than %d decimals", d, ChargeDecimals)
	}
	if !shifted.IsInteger() || shifted.Abs().GreaterThan(decimal.New(1, 18)) {
		return 0, fmt.Errorf("money: %s is out of range", d)
	}
	return Micros(shifted.IntPart()), nil
}

// MustMicros is ToMicros for amounts known to be rounded; it panics otherwise (an invariant).
func MustMicros(d decimal.Decimal) Micros {
	m, err := ToMicros(d)
	if err != nil {
		panic(err)
	}
	return m
}

// Decimal returns the amount as a decimal with 6 decimals.
func (m Micros) Decimal() decimal.Decimal { return decimal.New(int64(m), -ChargeDecimals) }

// String formats the amount as a charge, always with 6 decimals ("0.075000").
func (m Micros) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%06d", sign, v/microsPerEUR, v%microsPerEUR)
}

// FormatCharge formats a charge with exactly 6 decimals.
func FormatCharge(d decimal.Decimal) string { return d.StringFixed(ChargeDecimals) }

// FormatInvoice formats an invoice amount with exactly 2 decimals.
func FormatInvoice(d decimal.Decimal) string { return d.StringFixed(InvoiceDecimals) }

// Parse reads a decimal amount given by a person or a file ("12.50"). It refuses empty input,
// exponents and anything that is not a plain decimal, so that money is never guessed.
func Parse(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, fmt.Errorf("empty amount")
	}
	for i, c := range s {
		if (c >= '0' && c <= '9') || c == '.' || (i == 0 && (c == '-' || c == '+')) {
			continue
		}
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal amount", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal amount", s)
	}
	return d, nil
}
