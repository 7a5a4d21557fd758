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
		account := fmt.Sprintf("acct-%d", (i*7919)%accounts)
		channel := "sms"
		body := fmt.Sprintf(`{"id":"ev-%d","account":%q,"channel":"sms","destination":"+31612345678","quantity":2,"occurred_at":"2026-03-10T08:00:00.123Z"}`, i, account)
		if i%3 == 0 {
			channel = "voice"
			body = fmt.Sprintf(`{"id":"ev-%d","account":%q,"channel":"voice","destination":"+31612345678","quantity":%d,"caller_id":"+31201234567","occurred_at":"2026-03-10T08:00:00Z"}`, i, account, i%600)
		}
		deliveries[i] = ledger.Delivery{Subject: "usage." + channel + "." + account, Data: []byte(body)}
	}
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		items := make([]ledger.Prepared, batch)
		for i, d := range deliveries {
			items[i] = ledger.Prepare(d, dir, t)
		}
		plan, err := ledger.PlanBatch(items, ledger.Existing{}, at)
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Charges) != batch {
			// A benchmark of parking would measure the wrong path.
			b.Fatalf("%d of %d events charged; first parked: %s", len(plan.Charges), batch, plan.Parked[0].Detail)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}
