package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ledger/internal/testnet"
	"ledger/sql/storetest"
)

// BenchmarkCluster_ingestion measures ingestion with 1, 2 and 3 ledgerd on one fresh PostgreSQL
// database and one NATS node (docs/scaling.md): the events are published first, with every
// ledgerd stopped, so that the figure is the ledger's alone; then the instances start, and the
// time runs from the first batch charged to the last. make bench-cluster runs it:
//
//	LEDGER_TEST_POSTGRES=postgres://… go test -run '^$' -bench BenchmarkCluster_ingestion -benchtime 1x ./cmd/ledgerd/
//
// It reports events/s, and the reloads and refreshes the instances made of each other's writes.
func BenchmarkCluster_ingestion(b *testing.B) {
	base := os.Getenv("LEDGER_TEST_POSTGRES")
	if base == "" || !storetest.Postgres() {
		b.Skip("needs LEDGER_TEST_POSTGRES; runs in the pass on PostgreSQL")
	}
	events := 200_000
	if v, err := strconv.Atoi(os.Getenv("LEDGER_BENCH_EVENTS")); err == nil && v > 0 {
		events = v
	}
	const accounts = 1000
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			for range b.N {
				benchIngestion(b, base, n, accounts, events)
			}
		})
	}
}

func benchIngestion(b *testing.B, base string, n, accounts, events int) {
	b.StopTimer()
	dir := b.TempDir()
	dbURL := freshDatabase(b, base)
	_, natsURL, _ := startNATSCluster(b, dir, 1)
	key := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("cd", 32)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	ledgers := make([]*clusterLedgerd, n)
	for i := range ledgers {
		l := &clusterLedgerd{name: fmt.Sprintf("ledgerd-%d", i+1), http: testnet.FreeAddr(b)}
		l.args = []string{"--db", dbURL, "--nats", natsURL, "--test-clock", "--http", l.http, "--instance", l.name,
			"--data", filepath.Join(dir, l.name), "--pseudonym-key", key, "--memory-limit", "180MiB"}
		ledgers[i] = l
	}
	b.Cleanup(func() {
		for _, l := range ledgers {
			l.kill()
		}
	})
	// The first instance alone makes the streams, the consumer and the accounts, then stops.
	first := ledgers[0]
	first.start(b, filepath.Join(dir, first.name+".log"))
	first.waitReady(b, 60*time.Second)
	first.do(b, "POST", "/v1/clock", `{"now":"2026-03-30T12:00:00Z"}`, nil)
	for i := range accounts {
		first.do(b, "POST", "/v1/accounts", fmt.Sprintf(`{"id":"acct-%04d","name":"Customer %d","type":"postpaid","country":"NL","registered_at":"2026-01-01T00:00:00Z"}`, i, i), nil)
	}
	first.kill()

	_, js := publisher(b, natsURL)
	for i := range events {
		account := fmt.Sprintf("acct-%04d", i%accounts)
		body := fmt.Sprintf(`{"id":"ev-%07d","account":%q,"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2026-03-%02dT10:00:00Z"}`, i, account, 1+i%28)
		if _, err := js.PublishAsync("usage.sms."+account, []byte(body)); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 4095 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()

	for _, l := range ledgers {
		l.start(b, filepath.Join(dir, l.name+".log"))
	}
	// The clock runs from the first batch charged (the processes' start-up left out) to the last.
	// Once one instance has charged, only it is asked, ten times a second: scraping them all
	// often would take CPU from what is measured.
	begun := time.Now()
	var start time.Time
	var before int
	watched := ledgers
	for {
		n := charged(watched)
		if start.IsZero() && n > 0 {
			b.StartTimer()
			start, before = time.Now(), n
			for _, l := range ledgers {
				if charged([]*clusterLedgerd{l}) > 0 {
					watched = []*clusterLedgerd{l}
				}
			}
		}
		if n >= events {
			break
		}
		if time.Since(begun) > 10*time.Minute {
			b.Fatalf("%d of %d events charged after 10 minutes", n, events)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var reloads, refreshes float64
	for _, l := range ledgers {
		m := metricsText(l)
		reloads += metricValue(m, "ledger_cluster_reloads_total")
		refreshes += metricValue(m, "ledger_cluster_refreshes_total")
	}
	b.ReportMetric(float64(events-before)/elapsed.Seconds(), "events/s")
	b.ReportMetric(reloads, "reloads")
	b.ReportMetric(refreshes, "refreshes")
}

// charged is how many events the instances say they charged, together.
func charged(ls []*clusterLedgerd) int {
	total := 0.0
	for _, l := range ls {
		total += metricSum(metricsText(l), `ledger_usage_events_total\{[^}]*outcome="charged"[^}]*\}`)
	}
	return int(total)
}

func metricsText(l *clusterLedgerd) string {
	resp, err := http.Get("http://" + l.http + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricValue(text, name string) float64 {
	return metricSum(text, regexp.QuoteMeta(name)+`(\{[^}]*\})?`)
}

func metricSum(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + series + ` ([0-9.e+]+)$`)
	total := 0.0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[len(m)-1], 64)
		total += v
	}
	return total
}
