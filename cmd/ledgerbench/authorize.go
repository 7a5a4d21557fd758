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

// authorizeWorkers is how many requesters each transport runs; the offered rate is paced.
const authorizeWorkers = 4

// authorizeLoad serves authorisation over NATS and HTTP beside the pipeline, as ledgerd does,
// and drives them from a separate process (this command in load mode), as platform services
// would: the requesters' own scheduling is not measured as the service's latency.
type authorizeLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	server *http.Server
	child  *exec.Cmd
	out    bytes.Buffer
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
	load := &authorizeLoad{server: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
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

func (l *authorizeLoad) stop() {
	l.child.Process.Signal(syscall.SIGTERM)
	l.child.Wait()
	l.cancel()
	l.wg.Wait()
	l.server.Close()
}

func (l *authorizeLoad) report() {
	var results []loadResult
	if err := json.Unmarshal(l.out.Bytes(), &results); err != nil {
		fmt.Printf("    load generator: no result (%v): %s\n", err, l.out.String())
		return
	}
	for _, r := range results {
		fmt.Printf("    %-24s %6.0f requests/s during the pipeline (%d offered), p50 %s, p99 %s, max %s, %d failed\n",
			r.Name, float64(r.Count)/r.Seconds, r.Offered, time.Duration(r.P50).Round(time.Microsecond), time.Duration(r.P99).Round(time.Microsecond), time.Duration(r.Max).Round(time.Microsecond), r.Failed)
	}
}

// loadResult is what the load generator reports for one transport.
type loadResult struct {
	Name          string
	Count, Failed int
	Offered       int
	Seconds       float64
	P50, P99, Max int64 // nanoseconds
}

// runLoad is load mode: offer authorisation requests at a paced rate over NATS and HTTP until
// SIGTERM, then print the latencies as JSON.
func runLoad(natsURL, httpURL string, rate, accounts int) error {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return err
	}
	defer nc.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: authorizeWorkers}, Timeout: 5 * time.Second}
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var mu sync.Mutex
	latency := map[string][]time.Duration{}
	failed := map[string]int{}
	var wg sync.WaitGroup
	interval := time.Second * authorizeWorkers / time.Duration(max(rate, 1))
	start := time.Now()
	for _, s := range send {
		for w := 0; w < authorizeWorkers; w++ {
			wg.Add(1)
			go func(name string, do func([]byte) error, seed uint64) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, 7))
				tick := time.NewTicker(interval)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					body, _ := json.Marshal(billing.AuthorizeRequest{Account: accountID(rng.IntN(accounts)), Channel: "sms",
						Destination: destinations[rng.IntN(len(destinations))], Quantity: 1 + int64(rng.IntN(3))})
					began := time.Now()
					err := do(body)
					took := time.Since(began)
					mu.Lock()
					if err != nil {
						failed[name]++
					} else {
						latency[name] = append(latency[name], took)
					}
					mu.Unlock()
				}
			}(s.name, s.do, uint64(w))
		}
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	var results []loadResult
	for _, s := range send {
		lat := latency[s.name]
		slices.Sort(lat)
		pct := func(p float64) int64 {
			if len(lat) == 0 {
				return 0
			}
			return int64(lat[min(len(lat)-1, int(float64(len(lat))*p))])
		}
		results = append(results, loadResult{Name: s.name, Count: len(lat), Failed: failed[s.name], Offered: rate,
			Seconds: seconds, P50: pct(0.5), P99: pct(0.99), Max: pct(1)})
	}
	return json.NewEncoder(os.Stdout).Encode(results)
}
