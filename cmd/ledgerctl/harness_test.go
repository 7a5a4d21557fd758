package main

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
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// testTariffs are the tariffs the tests run on: 1000 NL SMS parts at 0.075 make 75.00 EUR.
var testTariffs = map[string]string{
	"prices.csv": `channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.075,,,2026-01-01,SMS Netherlands
sms,,outbound,33,FR,0.068,,,2026-01-01,SMS France
`,
	"surcharges.csv": "channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description\n",
	"cpi.csv":        "year,change\n2025,0.033\n",
	"interest.csv":   "valid_from,annual_rate\n2026-01-01,0.1215\n",
}

// testClockStart is where the test clock starts: in March 2026, before its billing run.
const testClockStart = "2026-03-10T09:00:00Z"

// ledgerd is one real ledgerd in the test's process, on free ports, with its own data, and a
// publisher of usage events to its NATS server.
type ledgerd struct {
	t   *testing.T
	svc *service.Service
	js  jetstream.JetStream
}

// testConfig is a ledgerd's configuration under dir: the test tariffs, the test clock, free
// ports, and the database storetest gives for dir/data/ledger.db.
func testConfig(t *testing.T, dir string) service.Config {
	t.Helper()
	tariffs := filepath.Join(dir, "tariffs")
	if err := os.MkdirAll(tariffs, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range testTariffs {
		if err := os.WriteFile(filepath.Join(tariffs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start, _ := time.Parse(time.RFC3339, testClockStart)
	cfg := service.Config{OpenStore: service.Opener(sql.Open), Data: filepath.Join(dir, "data"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0",
		Tariffs: tariffs, TestClock: true, TestClockStart: start, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.DB = storetest.URL(filepath.Join(cfg.Data, "ledger.db"))
	return cfg
}

// startLedgerd runs a ledgerd with the test clock; at cleanup it checks the ledger's
// invariants and stops it.
func startLedgerd(t *testing.T, apiTokens map[string]string) *ledgerd {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	if len(apiTokens) > 0 {
		var lines strings.Builder
		for token, role := range apiTokens {
			fmt.Fprintf(&lines, "%s %s\n", token, role)
		}
		cfg.APITokens = filepath.Join(dir, "tokens")
		if err := os.WriteFile(cfg.APITokens, []byte(lines.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := service.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start ledgerd: %v", err)
	}
	nc, err := nats.Connect(svc.NATSURL)
	if err != nil {
		t.Fatalf("connect to ledgerd's NATS: %v", err)
	}
	t.Cleanup(func() {
		nc.Close()
		if err := svc.Store.CheckInvariants(context.Background()); err != nil {
			t.Errorf("invariants at the end of the test: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop ledgerd: %v", err)
		}
	})
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &ledgerd{t: t, svc: svc, js: js}
}

// url is where ledgerd's API listens, for --server.
func (l *ledgerd) url() string { return "http://" + l.svc.HTTPAddr }

// api sends a request straight to the API (setting up what the CLI then reads) and fails the
// test on anything but want.
func (l *ledgerd) api(token, method, path string, body any, want int) []byte {
	l.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, l.url()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		l.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	return raw
}

// postpaid creates a Dutch postpaid account registered at the start of 2026.
func (l *ledgerd) postpaid(token, id string) {
	l.t.Helper()
	l.api(token, "POST", "/v1/accounts", map[string]any{"id": id, "name": "Customer " + id, "type": "postpaid",
		"country": "NL", "registered_at": "2026-01-01T00:00:00Z"}, http.StatusCreated)
}

// sendSMS publishes one usage event of parts NL SMS parts on 10 March, as a platform would.
func (l *ledgerd) sendSMS(id, account string, parts int) {
	l.t.Helper()
	body, _ := json.Marshal(map[string]any{"id": id, "account": account, "channel": "sms",
		"destination": "+31612345678", "quantity": parts, "occurred_at": "2026-03-10T08:00:00Z"})
	m := nats.NewMsg("usage.sms." + account)
	m.Data = body
	m.Header.Set("Nats-Msg-Id", id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.js.PublishMsg(ctx, m); err != nil {
		l.t.Fatalf("publish %s: %v", id, err)
	}
}

// waitUnbilled waits until the account's unbilled usage is want (6 decimals, as answered).
func (l *ledgerd) waitUnbilled(token, account, want string) {
	l.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var a struct {
			Unbilled string `json:"unbilled"`
		}
		json.Unmarshal(l.api(token, "GET", "/v1/accounts/"+account, nil, http.StatusOK), &a)
		if a.Unbilled == want {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s unbilled = %s, want %s", account, a.Unbilled, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setClock moves the test clock; the answer comes once everything due has run.
func (l *ledgerd) setClock(token, now string) {
	l.t.Helper()
	l.api(token, "POST", "/v1/clock", map[string]string{"now": now}, http.StatusOK)
}

// result is what one ledgerctl run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// ledgerctl runs the CLI in the test's process, as a shell would with these arguments and
// nothing on its standard input.
func ledgerctl(t *testing.T, args ...string) result {
	t.Helper()
	return ledgerctlInput(t, "", args...)
}

// ledgerctlInput runs the CLI with stdin on its standard input.
func ledgerctlInput(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}
