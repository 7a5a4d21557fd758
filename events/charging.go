package events

import "ledger/ledger"

// ObserveBatch counts a committed batch's events by channel and outcome, and its calls without
// a correct caller ID (SST 6.3); billing.Charging calls it through Observe.
func (m *Metrics) ObserveBatch(items []ledger.Prepared, plan ledger.BatchPlan) {
	type series struct{ channel, outcome string }
	counts := make(map[series]int, 8)
	for i, p := range items {
		counts[series{channelLabel(p), string(plan.Outcomes[i])}]++
	}
	for s, n := range counts {
		m.UsageEvents.WithLabelValues(s.channel, s.outcome).Add(float64(n))
	}
	invalid := 0
	for _, ch := range plan.Charges {
		if ch.Rating.InvalidCallerID {
			invalid++
		}
	}
	m.InvalidCallerID.Add(float64(invalid))
}
