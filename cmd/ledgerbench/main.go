// Command ledgerbench measures ingestion on the embedded defaults (make bench). It fills the
// USAGE stream of an embedded NATS server with SMS and voice events for many accounts, then
// measures, in one run:
//
//  1. the raw ceiling: a JetStream consumer like the ledger's fetching and acknowledging every
//     message and doing nothing else;
//  2. the pipeline: the ledger's own ingestor — fetch, decode, validate, rate, commit (SQLite,
//     WAL, synchronous=FULL: every batch durable before its ack), ack — and its ratio to (1);
//  3. peak memory while the pipeline runs (resident set high-water mark, and the Go heap).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/procfs"

	"ledger/billing"
	"ledger/clock"
	"ledger/events"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
	"ledger/service"
	"ledger/sql"
	_ "ledger/sql/postgres" // the engines --db can name
	_ "ledger/sql/sqlite"
	"ledger/tariffs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerbench:", err)
		os.Exit(1)
	}
}

type config struct {
	events, accounts, batch int
	prepaidShare            float64
	lots                    int
	dir                     string
	db                      string
	keep                    bool
	cpuProfile, memProfile  string
	memoryLimit, memoryNote string
	authorize               bool
	authorizeRate           int
	loadNATS, loadHTTP      string
	trace                   string
	billing                 bool
	agreements              int  // accounts with agreed prices of their own (T&C 2.7)
	indexed                 bool // events in February 2027: every price indexed once (R3)
	group                   int  // batches committed together at most (events.Ingestor.GroupBatches)
	natsProcess             bool // the NATS server in a process of its own
}

func run() error {
	var c config
	flag.IntVar(&c.events, "events", 1_000_000, "usage events in the stream")
	flag.IntVar(&c.accounts, "accounts", 10_000, "accounts the events are spread over")
	flag.IntVar(&c.batch, "batch", events.DefaultBatchSize, "events per batch")
	flag.IntVar(&c.group, "group", events.DefaultGroupBatches, "batches, at most, committed together in one transaction when they wait for the database (as ledgerd's --commit-group; 1: each alone)")
	flag.Float64Var(&c.prepaidShare, "prepaid", 0, "share of the accounts that are prepaid (0…1), each with -lots top-ups usable before the events")
	flag.IntVar(&c.lots, "lots", 3, "top-ups (lots) per prepaid account")
	flag.StringVar(&c.db, "db", "sqlite", "the store: sqlite (a file in -dir) or postgres://USER@HOST/DATABASE (a database created on that server for the run and dropped after it); several, comma-separated, run one after the other and are printed side by side")
	flag.StringVar(&c.dir, "dir", "", "working directory (default: a new temporary one, removed afterwards)")
	flag.BoolVar(&c.keep, "keep", false, "keep the working directory")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the pipeline phase to this file")
	flag.StringVar(&c.memProfile, "memprofile", "", "write a heap profile to this file when half the events are committed, and one to FILE.start as the pipeline starts (go tool pprof -sample_index=alloc_space -base FILE.start: what the pipeline allocates)")
	flag.BoolVar(&c.authorize, "authorize", false, "measure authorisation beside ingestion: the pipeline's first half alone, its second half while authorisation requests are offered open-loop over NATS (billing.authorize) and HTTP (POST /v1/authorize), then the requests against the idle ledger for 5 s; prints the ingestion rates and the latencies side by side")
	flag.IntVar(&c.authorizeRate, "authorize-rate", 1000, "authorisation requests per second offered on each of NATS and HTTP")
	flag.StringVar(&c.trace, "trace", "", "write a 3-second execution trace from the middle of the pipeline to this file")
	flag.IntVar(&c.agreements, "agreements", 0, "give this many of the accounts agreed prices of their own (T&C 2.7), which win over the list for them")
	flag.BoolVar(&c.indexed, "indexed", false, "date the events in February 2027, so that every price is indexed by the CPI change of 2026 (R3; the example set's figure, 2 %, is an example)")
	flag.BoolVar(&c.billing, "billing", false, "measure invoicing instead: charge -events over -accounts postpaid accounts in March 2026, then the billing run and the UBL and CSV exports")
	flag.StringVar(&c.memoryLimit, "memory-limit", "", "the Go runtime's soft memory limit, as ledgerd's --memory-limit (200MiB, 1GiB, off); default as ledgerd: 90 % of a container's limit, else none")
	flag.StringVar(&c.loadNATS, "load-nats", "", "load mode (started by -authorize): the NATS URL to send billing.authorize to")
	flag.StringVar(&c.loadHTTP, "load-http", "", "load mode: the POST /v1/authorize URL")
	flag.BoolVar(&c.natsProcess, "nats-process", false, "run the NATS server in a process of its own, as a deployment has it (ledgerd --nats), rather than embedded in this one as ledgerd's default run has it; the ceiling and the pipeline both use it")
	serve := flag.String("serve-nats", "", "internal (started by -nats-process): serve NATS with JetStream files in this directory until standard input closes")
	flag.Parse()
	if *serve != "" {
		return serveNATS(*serve)
	}
	if c.loadNATS != "" {
		return runLoad(c.loadNATS, c.loadHTTP, c.authorizeRate, c.accounts)
	}
	memoryNote, err := service.TuneRuntime(c.memoryLimit, !c.natsProcess) // the runtime settings ledgerd runs with
	if err != nil {
		return err
	}
	c.memoryNote = memoryNote
	if c.dir == "" {
		d, err := os.MkdirTemp("", "ledgerbench-")
		if err != nil {
			return err
		}
		c.dir = d
	}
	if !c.keep {
		defer os.RemoveAll(c.dir)
	}
	if c.billing {
		return runBilling(c)
	}
	ctx := context.Background()
	if c.prepaidShare < 0 || c.prepaidShare > 1 || c.lots < 1 {
		return fmt.Errorf("-prepaid must be 0…1 and -lots at least 1")
	}
	prepaid := ""
	if c.prepaidShare > 0 {
		prepaid = fmt.Sprintf(" (%.0f %% prepaid, %d lots each)", 100*c.prepaidShare, c.lots)
	}
	if c.agreements > 0 {
		prepaid += fmt.Sprintf(", %d with agreed prices", c.agreements)
	}
	if c.indexed {
		prepaid += ", prices indexed (R3)"
	}
	fmt.Printf("ledgerbench: %d events (SMS and voice) for %d accounts%s, batch %d, up to %d committed together, %d CPUs, %s, memory limit %s\n",
		c.events, c.accounts, prepaid, c.batch, c.group, runtime.NumCPU(), runtime.Version(), c.memoryNote)

	var results []ingestResult
	err = forEachStore(c, func(run config, spec string) error {
		r, err := ingestOn(ctx, run, spec)
		results = append(results, r)
		return err
	})
	if err != nil {
		return err
	}
	if len(results) > 1 {
		fmt.Printf("\nside by side (each against the raw ceiling measured in its own run):\n")
		fmt.Printf("  %-10s %12s %12s %7s %12s %14s %11s\n", "store", "events/s", "ceiling/s", "ratio", "peak RSS", "written/event", "rows/event")
		for _, r := range results {
			fmt.Printf("  %-10s %12.0f %12.0f %7.2f %12s %11.1f KiB %11.2f\n", r.engine, r.rate, r.ceiling, r.rate/r.ceiling, mib(r.rss), r.writtenPerEvent/1024, r.rowsPerEvent)
		}
	}
	return nil
}

// ingestResult is one store's figures.
type ingestResult struct {
	engine                                       string
	rate, ceiling, writtenPerEvent, rowsPerEvent float64
	rss                                          uint64
}

// rowsPerEvent prints and returns the rows the pipeline added per event, in all and by table.
func rowsPerEvent(before, after map[string]int64, events int) float64 {
	var total int64
	var parts []string
	for table, n := range after {
		d := n - before[table]
		total += d
		if per := float64(d) / float64(events); per >= 0.0001 {
			parts = append(parts, fmt.Sprintf("%s %.4f", table, per))
		}
	}
	slices.Sort(parts)
	per := float64(total) / float64(events)
	fmt.Printf("    rows added to the database: %.4f per event (%s)\n", per, strings.Join(parts, ", "))
	return per
}

// ingestOn measures the raw ceiling and the pipeline on the store spec names.
func ingestOn(ctx context.Context, c config, spec string) (ingestResult, error) {
	var res ingestResult
	db, err := openBenchDB(ctx, spec, c.dir, c.keep)
	if err != nil {
		return res, err
	}
	defer db.drop()
	res.engine = db.Engine
	fmt.Printf("store: %s\n", sql.Redact(db.URL))
	ns, err := startNATS(c, filepath.Join(c.dir, "jetstream"))
	if err != nil {
		return res, err
	}
	defer ns.stop()
	nc, err := nats.Connect(ns.url, ns.options...)
	if err != nil {
		return res, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	if err := events.EnsureStreams(ctx, js, events.DefaultUsageMaxAge, 1); err != nil {
		return res, err
	}
	store, err := sql.Open(ctx, db.URL)
	if err != nil {
		return res, err
	}
	defer store.Close()
	t, err := benchTariffs(c)
	if err != nil {
		return res, err
	}
	if err := createAccounts(ctx, store, c); err != nil {
		return res, err
	}
	// Credit control, as ledgerd runs it: every batch re-evaluates the credit of its customers.
	policy, err := ledger.NewCreditPolicy(ledger.DefaultThresholds)
	if err != nil {
		return res, err
	}
	book := ledger.NewCreditBook()
	if err := store.UseCredit(ctx, book, policy); err != nil {
		return res, err
	}
	if err := store.UsePricing(ctx, t); err != nil {
		return res, err
	}
	if err := createAgreements(ctx, store, t, c); err != nil {
		return res, err
	}
	// Start measuring with the write-ahead log copied into the database, as a running ledger's
	// checkpoints keep it: the setup's writes are not the pipeline's.
	if err := store.Checkpoint(ctx); err != nil {
		return res, err
	}

	start := time.Now()
	if err := fill(ctx, js, c); err != nil {
		return res, err
	}
	fill := time.Since(start)
	fmt.Printf("filled the stream: %d events in %.1f s (%.0f events/s published)\n", c.events, fill.Seconds(), float64(c.events)/fill.Seconds())

	beforeRaw := markCPU(ns)
	raw, err := rawCeiling(ctx, js, c)
	if err != nil {
		return res, err
	}
	ceilingCPU := spentBetween(beforeRaw, markCPU(ns))
	rawRate := float64(c.events) / raw.Seconds()
	fmt.Printf("(1) raw ceiling  fetch + ack                                 %9.0f events/s  (%.2f s)\n", rawRate, raw.Seconds())
	printCPU("ceiling", ceilingCPU, c.events)

	runtime.GC()
	writtenBefore := bytesWritten() + db.walBytes(ctx)
	rowsBefore, err := store.RowCounts(ctx)
	if err != nil {
		return res, err
	}
	resetPeakRSS()
	stopSampling := sampleHeap()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	var load *authorizeLoad
	var mark int64
	if c.authorize {
		if load, err = startAuthorizeLoad(ctx, nc, store, book, t, c, ns.url); err != nil {
			return res, err
		}
		mark = int64(c.events / 2) // the first half alone, the second with the requests
	}
	if c.memProfile != "" {
		// What the pipeline allocates is the half-way profile less this one (pprof -base).
		if err := writeHeapProfile(c.memProfile + ".start"); err != nil {
			return res, err
		}
	}
	beforePipe, gcBefore := markCPU(ns), markGC()
	pipe, charged, marked, err := pipeline(ctx, js, store, book, t, c, mark, func() { load.begin() })
	pipeCPU, gcAfter := spentBetween(beforePipe, markCPU(ns)), markGC()
	if load != nil {
		load.idle()
		time.Sleep(IdlePhase)
		load.stop()
	}
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	heapPeak := stopSampling()
	rss := peakRSS()
	if err != nil {
		return res, err
	}
	pipeRate := float64(c.events) / pipe.Seconds()
	fmt.Printf("(2) pipeline     fetch, decode, validate, rate, commit, ack  %9.0f events/s  (%.2f s)  ratio (2)/(1) = %.2f\n",
		pipeRate, pipe.Seconds(), pipeRate/rawRate)
	printCPU("pipeline", pipeCPU, c.events)
	if ceilingCPU.ok && pipeCPU.ok && load == nil {
		// What the ledger's own work costs beyond fetching and acknowledging: the budget the
		// ratio is made of (at 0.6, the pipeline may take 1/0.6 of the ceiling's time).
		fmt.Printf("    the pipeline's own work: %.1f µs of CPU per event beyond the ceiling's\n",
			1e6*(pipeCPU.machine-ceilingCPU.machine)/float64(c.events))
	}
	fmt.Printf("(3) peak memory during the pipeline: resident %s, Go heap %s\n", mib(rss), mib(heapPeak))
	if n := ns.peakRSS(); n > 0 {
		fmt.Printf("    the NATS server's own process (-nats-process): resident %s at its peak, since it started\n", mib(n))
	}
	printGC(gcBefore, gcAfter, c.events)
	if load != nil {
		alone := float64(marked.committed) / marked.after.Seconds()
		loaded := float64(charged-marked.committed) / (pipe - marked.after).Seconds()
		load.report(alone, loaded)
	}
	written := bytesWritten() + db.walBytes(ctx) - writtenBefore
	what := "written to disk during the pipeline"
	if db.Engine == "postgres" {
		what = "written during the pipeline (this process's disk writes and the server's WAL)"
	}
	fmt.Printf("    %s: %s (%.1f KiB per event)\n", what, mib(written), float64(written)/1024/float64(c.events))
	res.rate, res.ceiling, res.rss, res.writtenPerEvent = pipeRate, rawRate, rss, float64(written)/float64(c.events)
	rowsAfter, err := store.RowCounts(ctx)
	if err != nil {
		return res, err
	}
	res.rowsPerEvent = rowsPerEvent(rowsBefore, rowsAfter, c.events)

	n, total, err := store.UsageTotals(ctx)
	if err != nil {
		return res, err
	}
	if n != int64(c.events) || charged != int64(c.events) {
		return res, fmt.Errorf("charged %d events (the database holds %d), want %d", charged, n, c.events)
	}
	check := time.Now()
	if err := store.CheckInvariants(ctx); err != nil {
		return res, fmt.Errorf("invariants after the run: %w", err)
	}
	fmt.Printf("check: %d charges in the database, %s EUR in all; invariants hold (checked in %.1f s)\n",
		n, money.Micros(total), time.Since(check).Seconds())
	return res, nil
}

// createAccounts creates the accounts; the first -prepaid share of them are prepaid, each with
// -lots top-ups of 10.00 received in the first days of March, usable before the events (10
// March on) and expiring a year later. The events cost about 27 EUR per account, so charging
// draws across lots and some accounts run short.
func createAccounts(ctx context.Context, store *sql.Store, c config) error {
	registered := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	accounts := make([]ledger.Account, c.accounts)
	prepaid := int(c.prepaidShare * float64(c.accounts))
	for i := range accounts {
		id := accountID(i)
		typ := ledger.Postpaid
		if i < prepaid {
			typ = ledger.Prepaid
		}
		accounts[i] = ledger.Account{ID: id, Name: "Bench " + id, Type: typ, Status: ledger.Active, Country: "NL",
			CreditLimit: ledger.DefaultCreditLimit, PaymentTermsDays: 14, Indexation: true, RegisteredAt: registered, CreatedAt: registered, CreatedBy: "bench"}
	}
	// In the order they are received, as they would be booked: each account's first top-up on
	// 2 March, its second on 3 March, …
	var topUps []billing.AccountTopUp
	for l := 0; l < c.lots; l++ {
		for i := 0; i < prepaid; i++ {
			id := accountID(i)
			topUps = append(topUps, billing.AccountTopUp{Account: id, TopUp: ledger.TopUp{ID: id + "-lot-" + strconv.Itoa(l),
				Amount: 10_000_000, ReceivedAt: registered.Add(time.Duration(l+1) * 24 * time.Hour), Method: ledger.MethodBank}})
		}
	}
	if err := store.CreateAccounts(ctx, accounts); err != nil {
		return err
	}
	if len(topUps) == 0 {
		return nil
	}
	start := time.Now()
	// Booked as of 6 March (before that the accounts were new), then the clock catches up.
	asOf := clock.NewTest(registered.Add(5*24*time.Hour), true)
	if err := billing.New(billing.StoresOf(store), asOf, asOf, ledger.NewCreditBook(), nil).BookTopUps(ctx, topUps, "bench"); err != nil {
		return err
	}
	if _, err := billing.New(billing.StoresOf(store), clock.System{}, nil, ledger.NewCreditBook(), nil).RunDue(ctx, time.Now()); err != nil {
		return err
	}
	fmt.Printf("booked %d top-ups for %d prepaid accounts in %.1f s\n", len(topUps), prepaid, time.Since(start).Seconds())
	return nil
}

func accountID(i int) string { return "acct-" + strconv.Itoa(i) }

// benchTariffs is the example tariff set. Its example CPI change for 2026 (2 %) indexes the
// 2027 events of -indexed.
func benchTariffs(c config) (*pricing.Tariffs, error) {
	return pricing.LoadFS(tariffs.Example())
}

// createAgreements gives the first -agreements accounts agreed prices (T&C 2.7) for every
// destination the events go to, SMS and voice, a little below the list and valid from 1 January
// 2026 (so indexed too with -indexed), through the store as PUT /v1/accounts/{id}/prices does.
func createAgreements(ctx context.Context, store *sql.Store, t *pricing.Tariffs, c config) error {
	if c.agreements <= 0 {
		return nil
	}
	uses := billing.New(billing.StoresOf(store), clock.System{}, nil, ledger.NewCreditBook(), t)
	start := time.Now()
	for i := 0; i < c.agreements && i < c.accounts; i++ {
		var b strings.Builder
		b.WriteString("channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n")
		seen := map[string]bool{}
		for j, d := range destinations {
			prefix := d[1:3]
			if seen[prefix] {
				continue
			}
			seen[prefix] = true
			fmt.Fprintf(&b, "sms,,outbound,%s,,0.0%02d,,,2026-01-01,Agreed SMS %s\n", prefix, 40+(i+j)%30, prefix)
			fmt.Fprintf(&b, "voice,,outbound,%s,,0.0%02d,60,60,2026-01-01,Agreed voice %s\n", prefix, 20+(i+j)%50, prefix)
		}
		if _, _, err := uses.PutAgreement(ctx, accountID(i), b.String(), "bench"); err != nil {
			return fmt.Errorf("agreement of %s: %w", accountID(i), err)
		}
	}
	fmt.Printf("stored agreed prices for %d accounts in %.1f s\n", c.agreements, time.Since(start).Seconds())
	return nil
}

var destinations = []string{"+31612345678", "+31201234567", "+32470123456", "+33612345678", "+4915112345678", "+447700900123", "+34612345678", "+393123456789"}

// fill publishes the events with bounded asynchronous publishing.
func fill(ctx context.Context, js jetstream.JetStream, c config) error {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	if c.indexed {
		base = time.Date(2027, 2, 10, 8, 0, 0, 0, time.UTC) // R3: after the indexation of 1 January 2027
	}
	type wire struct {
		ID          string `json:"id"`
		Account     string `json:"account"`
		Channel     string `json:"channel"`
		Destination string `json:"destination"`
		Quantity    int64  `json:"quantity"`
		CallerID    string `json:"caller_id,omitempty"`
		OccurredAt  string `json:"occurred_at"`
	}
	ajs, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return err
	}
	for i := 0; i < c.events; i++ {
		e := wire{ID: "ev-" + strconv.Itoa(i), Account: accountID(rng.IntN(c.accounts)), Channel: "sms",
			Destination: destinations[rng.IntN(len(destinations))], Quantity: 1 + int64(rng.IntN(3)),
			OccurredAt: base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)}
		if rng.IntN(10) < 3 {
			e.Channel, e.Quantity = "voice", int64(rng.IntN(600))
			if rng.IntN(20) != 0 {
				e.CallerID = "+31201234567"
			}
		}
		b, _ := json.Marshal(e)
		if _, err := ajs.PublishAsync("usage."+e.Channel+"."+e.Account, b); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if i%100_000 == 99_999 {
			fmt.Fprintf(os.Stderr, "  filling: %d/%d\n", i+1, c.events)
		}
	}
	select {
	case <-ajs.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("publishing did not complete")
	}
	return nil
}

// rawCeiling consumes every message with a consumer configured like the ledger's, acknowledging
// each and doing nothing else.
func rawCeiling(ctx context.Context, js jetstream.JetStream, c config) (time.Duration, error) {
	cons, err := events.EnsureConsumer(ctx, js, "bench-raw", 0, events.InFlight(c.batch, c.group), events.Database{Instance: "none: the raw ceiling charges nothing"})
	if err != nil {
		return 0, err
	}
	var n atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if n.Add(1) == int64(c.events) {
			close(done)
		}
	}, jetstream.PullMaxMessages(c.batch), jetstream.PullExpiry(events.PullExpiry)) // as the ledger consumes
	if err != nil {
		return 0, err
	}
	defer cc.Stop()
	select {
	case <-done:
		return time.Since(start), nil
	case <-time.After(10 * time.Minute):
		return 0, fmt.Errorf("raw consumer got %d of %d", n.Load(), c.events)
	}
}

// pipelineMark is where a pipeline run crossed its mark: how many events were committed then,
// and how long after the start.
type pipelineMark struct {
	committed int64
	after     time.Duration
}

// pipeline runs the ledger's ingestor until every event is committed and acknowledged, calling
// atMark once as soon as mark events are committed (0: never).
func pipeline(ctx context.Context, js jetstream.JetStream, store *sql.Store, book *ledger.CreditBook, t *pricing.Tariffs, c config,
	mark int64, atMark func()) (time.Duration, int64, pipelineMark, error) {
	var marked pipelineMark
	cons, err := events.EnsureConsumer(ctx, js, events.ConsumerName, 0, events.InFlight(c.batch, c.group), events.Database{Instance: store.Instance(), Where: store.Location()})
	if err != nil {
		return 0, 0, marked, err
	}
	charging := billing.New(billing.StoresOf(store), clock.System{}, nil, book, t).Charging
	charging.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	// As ledgerd charges: every destination's pseudonym computed and kept (R14).
	charging.Pseudonyms = ledger.NewPseudonyms([]byte("ledgerbench pseudonym key"), t.LongestPrefix())
	var committed atomic.Int64
	in := &events.Ingestor{Consumer: cons, Charger: charging, BatchSize: c.batch, GroupBatches: c.group, Log: charging.Log,
		AfterCommit: func(n int) bool { committed.Add(int64(n)); return true }}
	runCtx, cancel := context.WithCancel(ctx)
	go store.RunUpkeep(runCtx, nil)
	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- in.Run(runCtx) }()
	defer func() { cancel(); <-stopped }()
	deadline := time.Now().Add(30 * time.Minute)
	last := time.Now()
	profiled := c.memProfile == ""
	for {
		n := committed.Load()
		if mark > 0 && marked.committed == 0 && n >= mark {
			marked = pipelineMark{committed: n, after: time.Since(start)}
			atMark()
		}
		if c.trace != "" && n >= int64(c.events)/3 {
			if f, err := os.Create(c.trace); err == nil {
				trace.Start(f)
				go func() { time.Sleep(3 * time.Second); trace.Stop(); f.Close() }()
			}
			c.trace = ""
		}
		if !profiled && n >= int64(c.events)/2 {
			profiled = true
			if err := writeHeapProfile(c.memProfile); err != nil {
				fmt.Fprintf(os.Stderr, "ledgerbench: %v\n", err)
			}
		}
		if n >= int64(c.events) {
			break
		}
		if time.Now().After(deadline) {
			return 0, n, marked, fmt.Errorf("pipeline committed %d of %d in 30 minutes", n, c.events)
		}
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "  pipeline: %d/%d\n", n, c.events)
			last = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Every message acknowledged: nothing pending or awaiting ack in the consumer.
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, 0, marked, err
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start), committed.Load(), marked, nil
}

// resetPeakRSS resets the kernel's resident-set high-water mark (Linux: clear_refs 5).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads this process's resident-set high-water mark (VmHWM) in bytes.
func peakRSS() uint64 { return vmHWM(os.Getpid()) }

// vmHWM reads a process's resident-set high-water mark, in bytes (0 where it cannot be read).
func vmHWM(pid int) uint64 {
	return fromProc(pid, func(p procfs.Proc) (uint64, error) {
		s, err := p.NewStatus()
		return s.VmHWM, err
	})
}

// sampleHeap samples the Go heap in use every 20 ms; the returned function stops and returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}

// writeHeapProfile writes the heap profile (in use and allocated since the start) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// bytesWritten reads what the process has caused to be written to storage (/proc/self/io).
func bytesWritten() uint64 {
	return fromProc(os.Getpid(), func(p procfs.Proc) (uint64, error) {
		io, err := p.IO()
		return io.WriteBytes, err
	})
}
