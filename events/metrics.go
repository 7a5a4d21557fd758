package events

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"ledger/ledger"
)

// Metrics are the ingestion metrics of CONTRACT 6.
type Metrics struct {
	UsageEvents     *prometheus.CounterVec
	Pending         prometheus.Gauge
	BatchDuration   prometheus.Histogram
	CommitGroup     prometheus.Histogram
	InvalidCallerID prometheus.Counter
}

// NewMetrics registers the ingestion metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		UsageEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_usage_events_total",
			Help: "Usage events by channel and outcome (charged, duplicate, rejected).",
		}, []string{"channel", "outcome"}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ledger_ingest_pending_messages",
			Help: "Usage events waiting in the consumer: not yet delivered or not yet acknowledged.",
		}),
		BatchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ledger_batch_duration_seconds",
			Help:    "Time to commit one ingested batch and acknowledge its messages.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		CommitGroup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ledger_ingest_commit_group_batches",
			Help:    "Batches committed together in one transaction (group commit: more than one when they waited for the database).",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16},
		}),
		InvalidCallerID: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ledger_voice_invalid_caller_id_total",
			Help: "Voice calls charged without a correct caller ID (SST 6.3); per account in GET /v1/accounts/{id}.",
		}),
	}
	reg.MustRegister(m.UsageEvents, m.Pending, m.BatchDuration, m.CommitGroup, m.InvalidCallerID)
	// Start every series at zero so that rate() and alerts see them from the first scrape.
	for _, c := range append(append([]string{}, ledger.Channels...), "invalid") {
		for _, o := range []ledger.Outcome{ledger.OutcomeCharged, ledger.OutcomeDuplicate, ledger.OutcomeRejected} {
			m.UsageEvents.WithLabelValues(c, string(o))
		}
	}
	return m
}

// channelLabel keeps the label's values to the known channels, whatever a publisher sends.
func channelLabel(p ledger.Prepared) string {
	if ledger.ValidChannel(p.Event.Channel) {
		return p.Event.Channel
	}
	return "invalid"
}

// Charged is how many events this process has charged: ledger_usage_events_total{outcome=
// "charged"}, summed over the channels, read from that one metric (the console's ingestion rate).
func (m *Metrics) Charged() float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { m.UsageEvents.Collect(ch); close(ch) }()
	total := 0.0
	for metric := range ch {
		var pb dto.Metric
		if metric.Write(&pb) != nil {
			continue
		}
		for _, l := range pb.GetLabel() {
			if l.GetName() == "outcome" && l.GetValue() == string(ledger.OutcomeCharged) {
				total += pb.GetCounter().GetValue()
			}
		}
	}
	return total
}
