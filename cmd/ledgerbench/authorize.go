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
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"ledger/api"
	"ledger/clock"
	"ledger/events"
	"ledger/ledger"
	"ledger/pricing"
	"ledger/sql"
)

// authorizeWorkers is how many requesters each transport runs; the offered rate is paced.
const authorizeWorkers = 4

// authorizeLoad offers authorisation requests over NATS and HTTP at a fixed rate while the
// pipeline runs, and records each answer's latency.
type authorizeLoad struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time
	elapsed time.Duration
	mu      sync.Mutex
	latency map[string][]time.Duration
	failed  map[string]int
	server  *http.Server
}

func startAuthorizeLoad(ctx context.Context, nc *nats.Conn, store *sql.Store, directory *ledger.Directory, book *ledger.CreditBook, t *pricing.Tariffs, c config) (*authorizeLoad, error) {
	charger := &events.Charger{Store: store, Accounts: directory, Clock: clock.System{}}
	charger.SetTariffs(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	authorizer := &events.Authorizer{Book: book, Charger: charger, Clock: clock.System{}, Log: quiet}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &api.Server{Store: store, Directory: directory, Charger: charger, Clock: clock.System{}, Credit: book,
		Authorizer: authorizer, Gatherer: prometheus.NewRegistry(), Log: quiet}
	load := &authorizeLoad{latency: map[string][]time.Duration{}, failed: map[string]int{},
		server: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
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
	// Requesters on their own connection, as a platform service would be.
	requester, err := nats.Connect(nc.ConnectedUrl())
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: authorizeWorkers}, Timeout: 5 * time.Second}
	url := "http://" + l.Addr().String() + "/v1/authorize"
	send := map[string]func([]byte) error{
		"NATS billing.authorize": func(body []byte) error {
			msg, err := requester.Request(events.AuthorizeSubject, body, 5*time.Second)
			if err == nil && !bytes.Contains(msg.Data, []byte(`"estimate"`)) {
				err = fmt.Errorf("answer %s", msg.Data)
			}
			return err
		},
		"HTTP POST /v1/authorize": func(body []byte) error {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}
	load.started = time.Now()
	interval := time.Second * authorizeWorkers / time.Duration(max(c.authorizeRate, 1))
	for name, do := range send {
		for w := 0; w < authorizeWorkers; w++ {
			load.wg.Add(1)
			go func(name string, do func([]byte) error, seed uint64) {
				defer load.wg.Done()
				rng := rand.New(rand.NewPCG(seed, 7))
				tick := time.NewTicker(interval)
				defer tick.Stop()
				for {
					select {
					case <-runCtx.Done():
						return
					case <-tick.C:
					}
					body, _ := json.Marshal(events.AuthorizeRequest{Account: accountID(rng.IntN(c.accounts)), Channel: "sms",
						Destination: destinations[rng.IntN(len(destinations))], Quantity: 1 + int64(rng.IntN(3))})
					start := time.Now()
					err := do(body)
					took := time.Since(start)
					load.mu.Lock()
					if err != nil {
						load.failed[name]++
					} else {
						load.latency[name] = append(load.latency[name], took)
					}
					load.mu.Unlock()
				}
			}(name, do, uint64(w))
		}
	}
	go func() { <-runCtx.Done(); requester.Close() }()
	return load, nil
}

func (l *authorizeLoad) stop() {
	l.elapsed = time.Since(l.started)
	l.cancel()
	l.wg.Wait()
	l.server.Close()
}

func (l *authorizeLoad) report() {
	for _, name := range []string{"NATS billing.authorize", "HTTP POST /v1/authorize"} {
		lat := l.latency[name]
		slices.Sort(lat)
		pct := func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(float64(len(lat))*p))]
		}
		fmt.Printf("    %-24s %6.0f requests/s during the pipeline, p50 %s, p99 %s, max %s, %d failed\n", name,
			float64(len(lat))/l.elapsed.Seconds(), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
			pct(1).Round(time.Microsecond), l.failed[name])
	}
}
