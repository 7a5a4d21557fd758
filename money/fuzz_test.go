package money_test

import (
	"testing"

	"ledger/money"
)

// FuzzParse: no text makes the amount parser panic; what it accepts parses again from its own
// string to the same amount, and converts to micro-euros exactly or says why not.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "12.50", "-0.01", "+3", "0.075000", "1e3", "100000000000000000000", "1.0000001", ".5", "5.", "--1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := money.Parse(s)
		if err != nil {
			return
		}
		again, err := money.Parse(d.String())
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q parsed as %s, which parses as %s (%v)", s, d, again, err)
		}
		if m, err := money.ToMicros(d); err == nil && !m.Decimal().Equal(d) {
			t.Fatalf("%q: %s micros is not %s", s, m, d)
		}
	})
}
