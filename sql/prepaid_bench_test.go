package sql_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ledger/billing"
	"ledger/ledger"
)

// BenchmarkRunDueCatchUp: a ledger down for two years catches up, in time order, with 10,000
// prepaid accounts of 3 lots each: 30,000 lots becoming usable, 30,000 expiring, 10,000
// closures (go test -run '^$' -bench RunDueCatchUp -benchtime 1x ./sql/).
func BenchmarkRunDueCatchUp(b *testing.B) {
	const accounts, lots = 10_000, 3
	registered := at("2026-03-01T00:00:00Z")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := openFixture(b, filepath.Join(b.TempDir(), "ledger.db"))
		list := make([]ledger.Account, accounts)
		var topUps []billing.AccountTopUp
		for a := range list {
			id := "acct-" + strconv.Itoa(a)
			list[a] = ledger.Account{ID: id, Name: id, Type: ledger.Prepaid, Status: ledger.Active, Country: "NL",
				CreditLimit: ledger.DefaultCreditLimit, PaymentTermsDays: 14, RegisteredAt: registered, CreatedAt: registered, CreatedBy: "bench"}
		}
		if err := f.store.CreateAccounts(f.ctx, list); err != nil {
			b.Fatal(err)
		}
		for l := 0; l < lots; l++ {
			for a := 0; a < accounts; a++ {
				id := "acct-" + strconv.Itoa(a)
				topUps = append(topUps, billing.AccountTopUp{Account: id, TopUp: ledger.TopUp{ID: fmt.Sprintf("%s-%d", id, l),
					Amount: 10_000_000, ReceivedAt: registered.Add(time.Duration(l+1) * 24 * time.Hour), Method: ledger.MethodBank}})
			}
		}
		if err := bookTopUps(f.ctx, f.store, topUps, "bench", registered.Add(5*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		n, err := runDue(f.ctx, f.store, registered.AddDate(2, 0, 0))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "items/op")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "items/s")
		b.StopTimer()
		if n < accounts*lots { // usable ran at booking time; expiries and closures are left
			b.Fatalf("%d items ran, want at least %d", n, accounts*lots)
		}
		f.close()
	}
}
