package events_test

import (
	"testing"

	"ledger/events"
)

func TestInFlight(t *testing.T) {
	for _, tc := range []struct{ batch, group, want int }{
		{0, 0, events.MaxAckPending},  // defaults: 5,000 × 4
		{5000, 8, 40_000},             // a whole group of 8
		{10, 1, events.MaxAckPending}, // never fewer
		{events.MaxBatchSize * 2, events.MaxGroupBatches * 2, 160_000}, // bounded as the ingestor bounds them
	} {
		if got := events.InFlight(tc.batch, tc.group); got != tc.want {
			t.Errorf("InFlight(%d, %d) = %d, want %d", tc.batch, tc.group, got, tc.want)
		}
	}
}
