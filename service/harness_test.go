package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// testTariffs are the tariff files the integration tests run on (the conformance defaults).
var testTariffs = map[string]string{
	"prices.csv": `channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.075,,,2026-01-01,SMS Netherlands
sms,,outbound,33,FR,0.068,,,2026-01-01,SMS France
sms,,outbound,49,DE,0.081,,,2026-01-01,SMS Germany
sms,,inbound,,,0.004,,,2026-01-01,SMS inbound
voice,,outbound,316,NL,0.12,60,60,2026-01-01,Voice NL mobile
voice,,outbound,31,NL,0.03,1,1,2026-01-01,Voice NL fixed
voice,,inbound,,,0.01,1,1,2026-01-01,Voice inbound
ott,whatsapp,,,,0.005,,,2026-01-01,WhatsApp message
`,
	"surcharges.csv": `channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description
sms,,outbound,33,FR,0.01,all,2026-01-01,French operator surcharge
voice,,,,,0.05,invalid_caller_id,2026-01-01,Missing or invalid caller ID
`,
	"cpi.csv":      "year,change\n2025,0.033\n",
	"interest.csv": "valid_from,annual_rate\n2026-01-01,0.1215\n",
}

const testStart = "2026-03-10T09:00:00Z"

// env is one in-process ledgerd on free ports with its own data directory, a publisher
// connection to its NATS server, and a collector of its outgoing billing events.
type env struct {
	t       *testing.T
	cfg     service.Config
	svc     *service.Service
	nc      *nats.Conn
	js      jetstream.JetStream
	mu      sync.Mutex
	billing []billingMsg
	// published is the stream sequence of the last event published: settle waits until the
	// consumer has acknowledged it.
	published atomic.Uint64
}

type billingMsg struct {
	Subject string
	Body    map[string]any
}

type option func(*service.Config)

func writeTariffs(t *testing.T, dir string, overrides map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range testTariffs {
		if o, ok := overrides[name]; ok {
			body = o
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// start runs a ledgerd for the test; it is stopped, and the invariants checked, at cleanup.
func start(t *testing.T, opts ...option) *env {
	t.Helper()
	dir := t.TempDir()
	writeTariffs(t, filepath.Join(dir, "tariffs"), nil)
	start, _ := time.Parse(time.RFC3339, testStart)
	cfg := service.Config{
		OpenStore: service.Opener(sql.Open),
		Data:      filepath.Join(dir, "data"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0",
		Tariffs: filepath.Join(dir, "tariffs"), TestClock: true, TestClockStart: start,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg.DB = storetest.URL(filepath.Join(cfg.Data, "ledger.db"))
	for _, o := range opts {
		o(&cfg)
	}
	e := &env{t: t, cfg: cfg}
	e.launch()
	t.Cleanup(func() {
		if e.svc == nil {
			return
		}
		if err := e.svc.Store.CheckInvariants(context.Background()); err != nil {
			t.Errorf("invariants at the end of the test: %v", err)
		}
		e.stop()
	})
	return e
}

func (e *env) launch() {
	e.t.Helper()
	svc, err := service.Start(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatalf("start ledgerd: %v", err)
	}
	e.svc = svc
	// The embedded server listens on a fixed port from now on, so a restart keeps the address.
	if e.cfg.NATS == "" {
		e.cfg.NATSListen = strings.TrimPrefix(svc.NATSURL, "nats://")
	}
	if e.cfg.NATSUsers != "" {
		e.waitReady() // the test connects as the users it names
		return
	}
	if e.nc, err = nats.Connect(svc.NATSURL); err != nil {
		e.t.Fatalf("connect publisher: %v", err)
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.nc.Subscribe("billing.>", func(m *nats.Msg) {
		var body map[string]any
		json.Unmarshal(m.Data, &body)
		e.mu.Lock()
		e.billing = append(e.billing, billingMsg{m.Subject, body})
		e.mu.Unlock()
	}); err != nil {
		e.t.Fatal(err)
	}
	e.nc.Flush()
	e.waitReady()
}

func (e *env) waitReady() {
	e.t.Helper()
	e.eventually(10*time.Second, func() error {
		resp, err := http.Get("http://" + e.svc.HTTPAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}

// stop drains the service as SIGTERM does.
func (e *env) stop() {
	e.t.Helper()
	if e.nc != nil {
		e.nc.Close()
		e.nc = nil
	}
	if e.svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.svc.Stop(ctx); err != nil {
			e.t.Errorf("stop: %v", err)
		}
	}
}

// restart stops the service and starts it again on the same data.
func (e *env) restart(opts ...option) {
	e.t.Helper()
	e.stop()
	for _, o := range opts {
		o(&e.cfg)
	}
	e.launch()
}

type event struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Channel     string `json:"channel"`
	Product     string `json:"product,omitempty"`
	Direction   string `json:"direction,omitempty"`
	Destination string `json:"destination,omitempty"`
	Quantity    int64  `json:"quantity"`
	CallerID    string `json:"caller_id,omitempty"`
	OccurredAt  string `json:"occurred_at"`
}

func sms(id, account, dest string, parts int64) event {
	return event{ID: id, Account: account, Channel: "sms", Destination: dest, Quantity: parts, OccurredAt: "2026-03-10T08:00:00Z"}
}

// publish stores events in JetStream with the event id as Nats-Msg-Id (or msgID's answer).
func (e *env) publish(msgID func(event) string, evs ...event) {
	e.t.Helper()
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		id := ev.ID
		if msgID != nil {
			id = msgID(ev)
		}
		e.publishRaw("usage."+ev.Channel+"."+ev.Account, id, b)
	}
}

func (e *env) publishRaw(subject, msgID string, data []byte) {
	e.t.Helper()
	m := nats.NewMsg(subject)
	m.Data = data
	if msgID != "" {
		m.Header.Set("Nats-Msg-Id", msgID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := e.js.PublishMsg(ctx, m)
	if err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	for {
		last := e.published.Load()
		if ack.Sequence <= last || e.published.CompareAndSwap(last, ack.Sequence) {
			break
		}
	}
}

// do sends a request as admin over loopback (no tokens) and decodes the answer into out.
func (e *env) do(method, path string, body any, out any) (int, []byte) {
	e.t.Helper()
	return e.doAs("", method, path, body, out)
}

func (e *env) doAs(token, method, path string, body any, out any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+e.svc.HTTPAddr+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

type account struct {
	ID                   string `json:"id"`
	Status               string `json:"status"`
	CreditLimit          string `json:"credit_limit"`
	Exposure             string `json:"exposure"`
	Unbilled             string `json:"unbilled"`
	RenewalDate          string `json:"renewal_date"`
	NoticeDeadline       string `json:"notice_deadline"`
	InvalidCallerIDCalls int64  `json:"invalid_caller_id_calls"`
}

func (e *env) createAccount(id string, extra map[string]any) {
	e.t.Helper()
	body := map[string]any{"id": id, "name": "Customer " + id, "type": "postpaid", "country": "NL", "registered_at": "2026-01-01T00:00:00Z"}
	for k, v := range extra {
		body[k] = v
	}
	if status, raw := e.do("POST", "/v1/accounts", body, nil); status != 201 {
		e.t.Fatalf("create account %s: %d %s", id, status, raw)
	}
}

func (e *env) account(id string) account {
	e.t.Helper()
	var a account
	if status, raw := e.do("GET", "/v1/accounts/"+id, nil, &a); status != 200 {
		e.t.Fatalf("get account %s: %d %s", id, status, raw)
	}
	return a
}

// waitUnbilled waits until the account's unbilled usage is want (exact string, 6 decimals).
func (e *env) waitUnbilled(id, want string) {
	e.t.Helper()
	e.eventually(20*time.Second, func() error {
		if got := e.account(id).Unbilled; got != want {
			return fmt.Errorf("%s unbilled = %s, want %s", id, got, want)
		}
		return nil
	})
}

// consumer reads the state of the ledger's consumer of the usage stream.
func (e *env) consumer() (*jetstream.ConsumerInfo, error) {
	cons, err := e.js.Consumer(context.Background(), "USAGE", "ledger")
	if err != nil {
		return nil, err
	}
	return cons.Info(context.Background())
}

// settle waits until the consumer has nothing pending, so that what was published is charged or parked.
func (e *env) settle() {
	e.t.Helper()
	e.eventually(20*time.Second, func() error {
		info, err := e.consumer()
		if err != nil {
			return err
		}
		// NumPending follows a publish asynchronously: right after one it may still say 0. The
		// acknowledgement floor passing the last sequence published does not.
		if info.NumPending != 0 || info.NumAckPending != 0 || info.AckFloor.Stream < e.published.Load() {
			return fmt.Errorf("consumer: %d pending, %d awaiting ack, acknowledged up to %d of %d",
				info.NumPending, info.NumAckPending, info.AckFloor.Stream, e.published.Load())
		}
		return nil
	})
}

func (e *env) billingOn(subject string) []billingMsg {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []billingMsg
	for _, m := range e.billing {
		if m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) eventually(timeout time.Duration, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countCharges counts the charged usage events of an account.
func (e *env) countCharges(account string) int {
	e.t.Helper()
	n, _, err := e.svc.Store.(*sql.Store).AccountUsage(context.Background(), account)
	if err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}
