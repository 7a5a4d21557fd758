package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"ledger/api"
	"ledger/billing"
	"ledger/clock"
	"ledger/events"
	"ledger/ledger"
	"ledger/pricing"
	"ledger/sql"
)

// The load generator's phases, switched by signals from the bench: it connects and waits,
// offers load during the pipeline (SIGUSR1), then with the pipeline done (SIGUSR2), and reports
// at SIGTERM.
const (
	phaseWaiting = iota
	phaseIngesting
	phaseIdle
)

// phaseNames name the measured phases in the report.
var phaseNames = map[int]string{phaseIngesting: "during ingestion", phaseIdle: "idle"}

// IdlePhase is how long the load runs against an idle ledger after the pipeline.
const IdlePhase = 5 * time.Second

// authorizeLoad serves authorisation over NATS and HTTP beside the pipeline, as ledgerd does,
// and drives them from a separate process (this command in load mode), as platform services
// would: the requesters' own scheduling is not measured as the service's latency.
type authorizeLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	server *http.Server
	child  *exec.Cmd
	out    bytes.Buffer
	rate   int
}

func startAuthorizeLoad(ctx context.Context, nc *nats.Conn, store *sql.Store, book *ledger.CreditBook, t *pricing.Tariffs, c config, natsURL string) (*authorizeLoad, error) {
	uses := billing.New(billing.StoresOf(store), clock.System{}, nil, book, t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	authorizer := &events.Authorizer{Charging: uses.Charging, Log: quiet}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &api.Server{Billing: uses, Gatherer: prometheus.NewRegistry(), Log: quiet}
	load := &authorizeLoad{server: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}, rate: c.authorizeRate}
	go load.server.Serve(l)
	runCtx, cancel := context.WithCancel(ctx)
	load.cancel = cancel
	// The responder on a connection of its own, as ledgerd runs it.
	responder, err := nats.Connect(nc.ConnectedUrl())
	if err != nil {
		return nil, err
	}
	load.wg.Add(1)
	go func() { defer load.wg.Done(); authorizer.Serve(runCtx, responder); responder.Close() }()
	responder.Flush()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	load.child = exec.Command(self, "-load-nats", natsURL, "-load-http", "http://"+l.Addr().String()+"/v1/authorize",
		"-authorize-rate", fmt.Sprint(c.authorizeRate), "-accounts", fmt.Sprint(c.accounts))
	load.child.Stdout, load.child.Stderr = &load.out, os.Stderr
	if err := load.child.Start(); err != nil {
		return nil, fmt.Errorf("start the load generator: %w", err)
	}
	time.Sleep(200 * time.Millisecond) // let it connect
	return load, nil
}

// begin starts the load (phase during ingestion); idle moves it to the idle phase.
func (l *authorizeLoad) begin() { l.child.Process.Signal(syscall.SIGUSR1) }
func (l *authorizeLoad) idle()  { l.child.Process.Signal(syscall.SIGUSR2) }

func (l *authorizeLoad) stop() {
	l.child.Process.Signal(syscall.SIGTERM)
	l.child.Wait()
	l.cancel()
	l.wg.Wait()
	l.server.Close()
}

// report prints the ingestion rates of the two halves of the pipeline (alone, then with the
// authorisation load) and the latencies of each phase, side by side.
func (l *authorizeLoad) report(alone, loaded float64) {
	var results []loadResult
	if err := json.Unmarshal(l.out.Bytes(), &results); err != nil {
		fmt.Printf("    load generator: no result (%v): %s\n", err, l.out.String())
		return
	}
	fmt.Printf("(4) authorisation: %d requests/s offered on each of NATS and HTTP, open-loop; latency counted from when each was due\n", l.rate)
	fmt.Printf("    %-32s %22s %22s %22s\n", "", "ingestion alone", "ingestion + requests", "idle + requests")
	fmt.Printf("    %-32s %22.0f %22s %22s\n", "ingestion events/s", alone, fmt.Sprintf("%.0f (%.2f of alone)", loaded, loaded/alone), "-")
	for _, name := range []string{"NATS billing.authorize", "HTTP POST /v1/authorize"} {
		cells := map[string]string{}
		answered, sender := map[string]string{}, map[string]string{}
		for _, r := range results {
			if r.Name != name {
				continue
			}
			d := func(ns int64) string { return time.Duration(ns).Round(10 * time.Microsecond).String() }
			cells[r.Phase] = fmt.Sprintf("%s / %s / %s", d(r.P50), d(r.P99), d(r.Max))
			answered[r.Phase] = fmt.Sprintf("%d of %d, %d failed", r.Count, r.Offered, r.Failed)
			sender[r.Phase] = fmt.Sprintf("%s / %s", d(r.SenderP50), d(r.SenderP99))
		}
		fmt.Printf("    %-32s %22s %22s %22s\n", name+" p50/p99/max", "-", cells[phaseNames[phaseIngesting]], cells[phaseNames[phaseIdle]])
		fmt.Printf("    %-32s %22s %22s %22s\n", "  answered", "-", answered[phaseNames[phaseIngesting]], answered[phaseNames[phaseIdle]])
		fmt.Printf("    %-32s %22s %22s %22s\n", "  of which sent late p50/p99", "-", sender[phaseNames[phaseIngesting]], sender[phaseNames[phaseIdle]])
	}
}

// loadResult is what the load generator reports for one transport in one phase.
type loadResult struct {
	Name, Phase   string
	Count, Failed int
	Offered       int   // requests that fell due in the phase
	P50, P99, Max int64 // nanoseconds from when each was due to its answer
	// SenderP50 and SenderP99: how late the sender itself sent them (part of the latency).
	SenderP50, SenderP99 int64
}

// runLoad is load mode: offer authorisation requests over NATS and HTTP, open-loop — each
// falls due on a fixed schedule, rate a second per transport, and is sent at once on its own,
// whether or not earlier ones were answered — and time each from when it was due, so that a
// stalled service cannot hide behind a stalled sender. It waits for SIGUSR1 to start, counts
// from SIGUSR2 on as the idle phase, and at SIGTERM prints the latencies as JSON.
func runLoad(natsURL, httpURL string, rate, accounts int) error {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return err
	}
	defer nc.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}, Timeout: 5 * time.Second}
	send := []struct {
		name string
		do   func([]byte) error
	}{
		{"NATS billing.authorize", func(body []byte) error {
			msg, err := nc.Request(events.AuthorizeSubject, body, 5*time.Second)
			if err == nil && !bytes.Contains(msg.Data, []byte(`"estimate"`)) {
				err = fmt.Errorf("answer %s", msg.Data)
			}
			return err
		}},
		{"HTTP POST /v1/authorize", func(body []byte) error {
			resp, err := client.Post(httpURL, "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		}},
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM)
	var phase atomic.Int32
	type key struct {
		name  string
		phase int
	}
	var mu sync.Mutex
	latency, lateness := map[key][]time.Duration{}, map[key][]time.Duration{}
	failed, offered := map[key]int{}, map[key]int{}
	var inflight sync.WaitGroup
	stop := make(chan struct{})
	var dispatchers sync.WaitGroup
	period := time.Second / time.Duration(max(rate, 1))
	for i, s := range send {
		dispatchers.Add(1)
		go func(name string, do func([]byte) error, seed uint64) {
			defer dispatchers.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			next := time.Now()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if wait := time.Until(next); wait > 0 {
					preciseSleep(wait)
				}
				// Every request that has fallen due goes now, each timed from its own due time.
				for now := time.Now(); !next.After(now); next = next.Add(period) {
					p := int(phase.Load())
					if p == phaseWaiting {
						continue
					}
					body, _ := json.Marshal(billing.AuthorizeRequest{Account: accountID(rng.IntN(accounts)), Channel: "sms",
						Destination: destinations[rng.IntN(len(destinations))], Quantity: 1 + int64(rng.IntN(3))})
					k := key{name, p}
					mu.Lock()
					offered[k]++
					mu.Unlock()
					inflight.Add(1)
					go func(due time.Time) {
						defer inflight.Done()
						late := time.Since(due) // the sender's own delay, inside the latency
						err := do(body)
						took := time.Since(due)
						mu.Lock()
						if err != nil {
							failed[k]++
						} else {
							latency[k] = append(latency[k], took)
							lateness[k] = append(lateness[k], late)
						}
						mu.Unlock()
					}(next)
				}
			}
		}(s.name, s.do, uint64(i))
	}
	for sig := range signals {
		switch sig {
		case syscall.SIGUSR1:
			phase.Store(phaseIngesting)
			continue
		case syscall.SIGUSR2:
			phase.Store(phaseIdle)
			continue
		}
		break
	}
	close(stop)
	dispatchers.Wait()
	inflight.Wait()
	var results []loadResult
	for _, s := range send {
		for _, p := range []int{phaseIngesting, phaseIdle} {
			k := key{s.name, p}
			lat, late := latency[k], lateness[k]
			slices.Sort(lat)
			slices.Sort(late)
			pct := func(d []time.Duration, q float64) int64 {
				if len(d) == 0 {
					return 0
				}
				return int64(d[min(len(d)-1, int(float64(len(d))*q))])
			}
			results = append(results, loadResult{Name: s.name, Phase: phaseNames[p], Count: len(lat), Failed: failed[k],
				Offered: offered[k], P50: pct(lat, 0.5), P99: pct(lat, 0.99), Max: pct(lat, 1),
				SenderP50: pct(late, 0.5), SenderP99: pct(late, 0.99)})
		}
	}
	return json.NewEncoder(os.Stdout).Encode(results)
}

// preciseSleep sleeps d in the kernel (nanosleep, ~60 µs late at most on an idle machine)
// rather than on the Go runtime's timers, which an idle process wakes with millisecond
// granularity: the sender's own delay is part of every latency measured from the due time.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
