//go:build !race

package pricing

import "testing"

// TestRateAllocations pins the allocations of the integer path: the charges slice, and two per
// fresh decimal amount (a big.Int and its word; shopspring/decimal cannot share them). Units
// come from a table, and a single charge's total is its amount.
func TestRateAllocations(t *testing.T) {
	tariffs := testTariffs(t)
	const validCaller = "+31201234567"
	tests := []struct {
		name  string
		usage Usage
		max   float64
	}{
		{"sms_parts", Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 2, At: march}, 3},
		{"mms", Usage{Channel: "mms", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: march}, 3},
		{"ott", Usage{Channel: "ott", Product: "whatsapp", Direction: "inbound", Destination: "+4915112345678", Quantity: 10, At: march}, 3},
		{"push", Usage{Channel: "push", Product: "apns", Direction: "outbound", Destination: "+31612345678", Quantity: 3, At: march}, 3},
		{"voice_min_increment", Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, CallerID: validCaller, At: march}, 3},
		{"voice_zero_seconds", Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 0, At: march}, 1},
		// A surcharge adds its amount and a total that is no longer the base amount: 2 + 2.
		{"sms_with_surcharge", Usage{Channel: "sms", Direction: "outbound", Destination: "+33612345678", Quantity: 3, At: march}, 7},
		{"voice_caller_id_surcharge", Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, At: march}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, done, err := tariffs.rateFast(tc.usage); !done || err != nil {
				t.Fatalf("not rated by the integer path: %v", err)
			}
			if got := testing.AllocsPerRun(200, func() { _, _ = tariffs.Rate(tc.usage) }); got > tc.max {
				t.Errorf("%v allocations per Rate, want at most %v", got, tc.max)
			}
		})
	}
}
