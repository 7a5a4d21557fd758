package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"ledger/api"
	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/pricing"
	"ledger/service"
	"ledger/sql"
	"ledger/tariffs"
)

// runBilling measures invoicing (-billing, make bench): a month of -events charged events over
// -accounts postpaid accounts (Dutch, Belgian under reverse charge, American), charged through
// the store as ingestion charges them (planning beside the commit), then:
//
//  1. the billing run of the month: every account's invoice issued;
//  2. the UBL export of the month over HTTP (GET /v1/exports/invoices?format=ubl, a zip);
//  3. the CSV export;
//
// with the peak memory of each.
func runBilling(c config) error { return forEachStore(c, billingOn) }

// billingOn measures charging a month, the billing run and the exports on the store spec names.
func billingOn(c config, spec string) error {
	ctx := context.Background()
	db, err := openBenchDB(ctx, spec, c.dir, c.keep)
	if err != nil {
		return err
	}
	defer db.drop()
	fmt.Printf("ledgerbench -billing: %d events over %d accounts, batch %d, %d CPUs, %s, memory limit %s, store %s\n",
		c.events, c.accounts, c.batch, runtime.NumCPU(), runtime.Version(), c.memoryNote, db.Engine)
	store, err := sql.Open(ctx, db.URL)
	if err != nil {
		return err
	}
	defer store.Close()
	t, err := pricing.LoadFS(tariffs.Example())
	if err != nil {
		return err
	}
	registered := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	accounts := make([]ledger.Account, c.accounts)
	for i := range accounts {
		id := accountID(i)
		country, vatID := "NL", ""
		switch i % 5 {
		case 3:
			country, vatID = "BE", "BE0"+strconv.Itoa(100000000+i)
		case 4:
			country = "US"
		}
		accounts[i] = ledger.Account{ID: id, Name: "Bench " + id, Type: ledger.Postpaid, Status: ledger.Active, Country: country,
			VATID: vatID, CreditLimit: ledger.DefaultCreditLimit, PaymentTermsDays: 14, Indexation: true, RegisteredAt: registered,
			CreatedAt: registered, CreatedBy: "bench"}
	}
	if err := store.CreateAccounts(ctx, accounts); err != nil {
		return err
	}
	policy, err := ledger.NewCreditPolicy(ledger.DefaultThresholds)
	if err != nil {
		return err
	}
	book := ledger.NewCreditBook()
	if err := store.UseCredit(ctx, book, policy); err != nil {
		return err
	}
	if err := store.UsePricing(ctx, t); err != nil { // as ledgerd: invoices look for indexation notes
		return err
	}
	store.UseInvoicing(billing.Invoicing{Rates: invoices.RatesOf(t.Interest()), CollectionCosts: invoices.CollectionCosts})

	start := time.Now()
	if err := chargeMonth(ctx, store, book, t, c); err != nil {
		return err
	}
	charge := time.Since(start)
	fmt.Printf("charged %d events in %.1f s (%.0f events/s, through the store: plan beside commit)\n",
		c.events, charge.Seconds(), float64(c.events)/charge.Seconds())
	if err := store.FlushLines(ctx); err != nil {
		return err
	}
	if err := store.Checkpoint(ctx); err != nil {
		return err
	}

	runtime.GC()
	resetPeakRSS()
	stopSampling := sampleHeap()
	if c.cpuProfile != "" { // -cpuprofile: the billing run's
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	april := clock.NewTest(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), true)
	uses := billing.New(billing.StoresOf(store), april, april, ledger.NewCreditBook(), t)
	start = time.Now()
	runs, err := uses.RunPeriods(ctx, invoices.Period{Year: 2026, Month: time.March}, "bench")
	if err != nil {
		return err
	}
	run := time.Since(start)
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	heap, rss := stopSampling(), peakRSS()
	issued := 0
	for _, r := range runs {
		issued += len(r.Invoices)
	}
	fmt.Printf("(1) billing run 2026-03: %d invoices in %.2f s (%.0f invoices/s); peak resident %s, Go heap %s\n",
		issued, run.Seconds(), float64(issued)/run.Seconds(), mib(rss), mib(heap))
	if issued != c.accounts {
		return fmt.Errorf("issued %d invoices, want one per account (%d)", issued, c.accounts)
	}

	srv := &api.Server{Billing: billing.New(billing.StoresOf(store), clock.System{}, nil, ledger.NewCreditBook(), t), Seller: service.DefaultSeller}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	for _, format := range []string{"ubl", "csv"} {
		runtime.GC()
		resetPeakRSS()
		stopSampling = sampleHeap()
		start = time.Now()
		n, err := download(hs.URL + "/v1/exports/invoices?period=2026-03&format=" + format)
		if err != nil {
			return err
		}
		took := time.Since(start)
		heap, rss = stopSampling(), peakRSS()
		what := map[string]string{"ubl": "(2) UBL export (zip)", "csv": "(3) CSV export      "}[format]
		fmt.Printf("%s: %d invoices, %s in %.2f s; peak resident %s, Go heap %s\n", what, issued, mib(uint64(n)), took.Seconds(), mib(rss), mib(heap))
	}

	check := time.Now()
	if err := store.CheckInvariants(ctx); err != nil {
		return fmt.Errorf("invariants after the run: %w", err)
	}
	fmt.Printf("check: invariants hold (checked in %.1f s)\n", time.Since(check).Seconds())
	return nil
}

func download(url string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return io.Copy(io.Discard, resp.Body)
}

// chargeMonth charges the month's events: SMS to eight countries, voice, WhatsApp, spread over
// March, planned one batch ahead of the commit as the ingestor does.
func chargeMonth(ctx context.Context, store *sql.Store, book *ledger.CreditBook, t *pricing.Tariffs, c config) error {
	type wire struct {
		ID          string `json:"id"`
		Account     string `json:"account"`
		Channel     string `json:"channel"`
		Product     string `json:"product,omitempty"`
		Destination string `json:"destination"`
		Quantity    int64  `json:"quantity"`
		CallerID    string `json:"caller_id,omitempty"`
		OccurredAt  string `json:"occurred_at"`
	}
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, clock.Amsterdam)
	month := time.Date(2026, 4, 1, 0, 0, 0, 0, clock.Amsterdam).Sub(base)
	step := month / time.Duration(c.events)
	planned := make(chan *billing.PlannedBatch, 1)
	errs := make(chan error, 1)
	go func() {
		defer close(planned)
		for from := 0; from < c.events; from += c.batch {
			n := min(c.batch, c.events-from)
			items := make([]ledger.Prepared, n)
			for j := range items {
				i := from + j
				e := wire{ID: "ev-" + strconv.Itoa(i), Account: accountID(rng.IntN(c.accounts)), Channel: "sms",
					Destination: destinations[rng.IntN(len(destinations))], Quantity: 1 + int64(rng.IntN(3)),
					OccurredAt: base.Add(time.Duration(i) * step).UTC().Format(time.RFC3339Nano)}
				switch r := rng.IntN(10); {
				case r < 3:
					e.Channel, e.Quantity = "voice", int64(rng.IntN(600))
					if rng.IntN(20) != 0 {
						e.CallerID = "+31201234567"
					}
				case r == 3:
					e.Channel, e.Product = "ott", "whatsapp"
				}
				b, _ := json.Marshal(e)
				items[j] = ledger.Prepare(ledger.Delivery{Subject: "usage." + e.Channel + "." + e.Account, Data: b}, book, t)
			}
			pb, err := store.PlanBatch(items, time.Now())
			if err != nil {
				errs <- err
				return
			}
			planned <- pb
		}
	}()
	done, last := 0, time.Now()
	for pb := range planned {
		plan, err := store.Commit(ctx, pb)
		if err != nil {
			return err
		}
		for _, o := range plan.Outcomes {
			if o != ledger.OutcomeCharged {
				return fmt.Errorf("an event was %s, want every one charged", o)
			}
		}
		done += len(pb.Items)
		if time.Since(last) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "  charging: %d/%d\n", done, c.events)
			last = time.Now()
		}
	}
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}
