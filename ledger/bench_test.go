package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"ledger/ledger"
	"ledger/pricing"
)

// BenchmarkPrepareAndPlan measures the CPU stage of ingestion per event: decode, validate, rate,
// hash, then plan the batch (exactly-once decisions and the aggregated journal transaction).
func BenchmarkPrepareAndPlan(b *testing.B) {
	t, err := pricing.Load("../tariffs/example")
	if err != nil {
		b.Fatal(err)
	}
	const accounts, batch = 10_000, 5000
	dir := ledger.NewCreditBook()
	for i := 0; i < accounts; i++ {
		dir.Apply(ledger.Credit{Account: fmt.Sprintf("acct-%d", i), Type: ledger.Postpaid, Status: ledger.Active})
	}
	deliveries := make([]ledger.Delivery, batch)
	for i := range deliveries {
		body := fmt.Sprintf(`{"id":"ev-%d","account":"acct-%d","channel":"sms","destination":"+31612345678","quantity":2,"occurred_at":"2026-03-10T08:00:00.123Z"}`, i, (i*7919)%accounts)
		if i%3 == 0 {
			body = fmt.Sprintf(`{"id":"ev-%d","account":"acct-%d","channel":"voice","destination":"+31612345678","quantity":%d,"caller_id":"+31201234567","occurred_at":"2026-03-10T08:00:00Z"}`, i, (i*7919)%accounts, i%600)
		}
		deliveries[i] = ledger.Delivery{Subject: "usage.x.y", Data: []byte(body)}
	}
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		items := make([]ledger.Prepared, batch)
		for i, d := range deliveries {
			items[i] = ledger.Prepare(d, dir, t)
		}
		if _, err := ledger.PlanBatch(items, ledger.Existing{}, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}
