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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/internal/testnet"
	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// The real binary, built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ledgerd-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ledgerd")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ledgerd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := storetest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is one ledgerd process on fixed free ports and a data directory that outlives it.
type daemon struct {
	t                  *testing.T
	data, http, natsAt string
	cmd                *exec.Cmd
	log                bytes.Buffer
}

func newDaemon(t *testing.T) *daemon {
	d := &daemon{t: t, data: t.TempDir(), http: testnet.FreeAddr(t), natsAt: testnet.FreeAddr(t)}
	t.Cleanup(d.stop)
	return d
}

// stop ends the process if it still runs: SIGTERM, then SIGKILL after 10 s.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

func (d *daemon) start() {
	d.t.Helper()
	// A short ack wait: after a SIGKILL, what was delivered and not acknowledged comes back in
	// 2 s instead of a minute.
	d.cmd = exec.Command(binary, "--data", d.data, "--db", storetest.URL(filepath.Join(d.data, "ledger.db")), "--http", d.http, "--nats-listen", d.natsAt, "--log-level", "warn", "--ack-wait", "2s")
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + d.http + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("ledgerd not ready in 30 s: %s", d.log.String())
}

func (d *daemon) post(path, body string) {
	d.t.Helper()
	resp, err := http.Post("http://"+d.http+path, "application/json", strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		raw, _ := io.ReadAll(resp.Body)
		d.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
}

func (d *daemon) unbilled(account string) string {
	d.t.Helper()
	resp, err := http.Get("http://" + d.http + "/v1/accounts/" + account)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ Unbilled string }
	json.NewDecoder(resp.Body).Decode(&a)
	return a.Unbilled
}

// publish stores n SMS events (2 parts, NL: 0.15 each) in JetStream.
func (d *daemon) publish(account string, from, n int) {
	d.t.Helper()
	nc, err := nats.Connect("nats://" + d.natsAt)
	if err != nil {
		d.t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2048))
	for i := from; i < from+n; i++ {
		body := fmt.Sprintf(`{"id":"%s-%d","account":"%s","channel":"sms","destination":"+31612345678","quantity":2,"occurred_at":"2026-03-10T08:00:00Z"}`, account, i, account)
		m := nats.NewMsg("usage.sms." + account)
		m.Data = []byte(body)
		m.Header.Set("Nats-Msg-Id", fmt.Sprintf("%s-%d", account, i))
		// A loaded machine may keep 2,048 messages in flight for longer than the default 200 ms
		// stall wait: wait longer rather than fail.
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second)); err != nil {
			d.t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		d.t.Fatal("publishing did not complete")
	}
}

func (d *daemon) waitUnbilled(account, want string) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := d.unbilled(account)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s unbilled = %s, want %s; log: %s", account, got, want, d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CONTRACT 1: SIGTERM drains the batch in flight and exits 0; what was published is charged
// exactly once across the restart.
func TestLedgerd_SIGTERM_drains_and_exits_0(t *testing.T) {
	d := newDaemon(t)
	d.start()
	d.post("/v1/accounts", `{"id":"term","name":"Term","type":"postpaid","country":"NL"}`)
	d.publish("term", 0, 20_000)
	time.Sleep(100 * time.Millisecond) // stop in the middle of ingestion
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ledgerd after SIGTERM: %v (want exit 0); log: %s", err, d.log.String())
		}
	case <-time.After(35 * time.Second):
		d.cmd.Process.Kill()
		t.Fatal("ledgerd did not exit within 35 s of SIGTERM")
	}
	d.start()
	d.waitUnbilled("term", "3000.000000") // 20,000 × 0.15
}

// R1: killed without warning (SIGKILL) while charging, ledgerd charges every event exactly
// once after it starts again: batches committed but not acknowledged come again and are
// recognised; batches not committed are charged.
//
// A prepaid account charged beside it draws on its lot exactly once too (R9): 20,000 × 0.15 =
// 3,000.00 against a €2,000 top-up leaves a shortfall of exactly 1,000.00. At the end the
// database, opened by the store, passes every invariant (the lots' among them).
func TestLedgerd_SIGKILL_under_load_charges_exactly_once(t *testing.T) {
	d := newDaemon(t)
	d.start()
	d.post("/v1/accounts", `{"id":"kill","name":"Kill","type":"postpaid","country":"NL"}`)
	d.post("/v1/accounts", `{"id":"killpre","name":"Kill prepaid","type":"prepaid","country":"NL"}`)
	d.post("/v1/accounts/killpre/topups", `{"id":"killpre-t1","amount":"2000.00","received_at":"2026-03-09T10:00:00Z","method":"bank"}`)
	d.publish("kill", 0, 30_000)
	d.publish("killpre", 0, 20_000)
	for i := 0; i < 3; i++ {
		time.Sleep(time.Duration(50+i*70) * time.Millisecond)
		d.cmd.Process.Kill()
		d.cmd.Wait()
		d.start()
	}
	d.waitUnbilled("kill", "4500.000000") // 30,000 × 0.15, not a cent more
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := d.prepaid("killpre")
		if p.Usable == "0.000000" && p.Shortfall == "1000.000000" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killpre: usable %s, shortfall %s; want 0 and 1000.000000 (3,000.00 charged against 2,000.00)", p.Usable, p.Shortfall)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.stop()
	store, err := sql.Open(context.Background(), storetest.URL(filepath.Join(d.data, "ledger.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CheckInvariants(context.Background()); err != nil {
		t.Errorf("invariants after three kills: %v", err)
	}
}

type prepaidBalances struct {
	Usable, Shortfall string
}

func (d *daemon) prepaid(account string) prepaidBalances {
	d.t.Helper()
	resp, err := http.Get("http://" + d.http + "/v1/accounts/" + account)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ Prepaid prepaidBalances }
	json.NewDecoder(resp.Body).Decode(&a)
	return a.Prepaid
}

// Issue 15, README truths: every flag ledgerd --help lists, and the environment variable it
// names, appears in the README.
func TestLedgerd_every_flag_in_the_README(t *testing.T) {
	out, _ := exec.Command(binary, "--help").CombinedOutput()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	flags := 0
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "-") {
			continue
		}
		name := strings.Fields(line)[0]
		flags++
		if !bytes.Contains(readme, []byte("`-"+name)) && !bytes.Contains(readme, []byte("`"+name)) {
			t.Errorf("flag %s is not in the README", name)
		}
	}
	for _, env := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", ",", " ", ";", " ").Replace(string(out))) {
		if strings.HasPrefix(env, "LEDGER_") && !bytes.Contains(readme, []byte(env)) {
			t.Errorf("environment variable %s is not in the README", env)
		}
	}
	if flags < 20 {
		t.Fatalf("read %d flags from --help:\n%s", flags, out)
	}
}

// Every LEDGER_* environment variable --help names sets what its flag sets: each is given a
// value other than its default and the configuration must show it, and the flag given as
// well wins over it. A variable --help names without a case here fails the test.
func TestLedgerd_every_environment_variable(t *testing.T) {
	out, _ := exec.Command(binary, "--help").CombinedOutput()
	named := map[string]bool{}
	for _, w := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", ",", " ", ";", " ").Replace(string(out))) {
		if strings.HasPrefix(w, "LEDGER_") {
			named[w] = true
		}
	}
	type envCase struct {
		value, flag, flagValue string
		got                    func(c service.Config, memoryLimit string) string
	}
	cases := map[string]envCase{
		"LEDGER_DATA":          {"/srv/ledger", "--data", "/flag", func(c service.Config, _ string) string { return c.Data }},
		"LEDGER_DB":            {"postgres://u@db/ledger", "--db", "sqlite:///flag.db", func(c service.Config, _ string) string { return c.DB }},
		"LEDGER_NATS":          {"nats://n1:4222", "--nats", "nats://flag:4222", func(c service.Config, _ string) string { return c.NATS }},
		"LEDGER_NATS_LISTEN":   {"127.0.0.1:14999", "--nats-listen", "127.0.0.1:1", func(c service.Config, _ string) string { return c.NATSListen }},
		"LEDGER_NATS_USERS":    {"/etc/users", "--nats-users", "/flag", func(c service.Config, _ string) string { return c.NATSUsers }},
		"LEDGER_NATS_CREDS":    {"/etc/creds", "--nats-creds", "/flag", func(c service.Config, _ string) string { return c.NATSCreds }},
		"LEDGER_HTTP":          {"127.0.0.1:18999", "--http", "127.0.0.1:1", func(c service.Config, _ string) string { return c.HTTP }},
		"LEDGER_TARIFFS":       {"/etc/tariffs", "--tariffs", "/flag", func(c service.Config, _ string) string { return c.Tariffs }},
		"LEDGER_API_TOKENS":    {"/etc/tokens", "--api-tokens", "/flag", func(c service.Config, _ string) string { return c.APITokens }},
		"LEDGER_METRICS_OPEN":  {"true", "--metrics-open=false", "false", func(c service.Config, _ string) string { return fmt.Sprint(c.MetricsOpen) }},
		"LEDGER_TEST_CLOCK":    {"true", "--test-clock=false", "false", func(c service.Config, _ string) string { return fmt.Sprint(c.TestClock) }},
		"LEDGER_BATCH_SIZE":    {"777", "--batch-size", "9", func(c service.Config, _ string) string { return fmt.Sprint(c.BatchSize) }},
		"LEDGER_COMMIT_GROUP":  {"2", "--commit-group", "7", func(c service.Config, _ string) string { return fmt.Sprint(c.CommitGroup) }},
		"LEDGER_PSEUDONYM_KEY": {"/etc/key", "--pseudonym-key", "/flag", func(c service.Config, _ string) string { return c.PseudonymKey }},
		"LEDGER_PERSONAL_DATA_RETENTION": {"720h0m0s", "--personal-data-retention", "1h0m0s",
			func(c service.Config, _ string) string { return c.PersonalDataRetention.String() }},
		"LEDGER_CREDIT_THRESHOLDS":  {"0.5,0.75", "--credit-thresholds", "0.6", func(c service.Config, _ string) string { return strings.Join(c.CreditThresholds, ",") }},
		"LEDGER_SMTP":               {"mail:25", "--smtp", "flag:25", func(c service.Config, _ string) string { return c.SMTP.Addr }},
		"LEDGER_SMTP_FROM":          {"b@x.example", "--smtp-from", "f@x.example", func(c service.Config, _ string) string { return c.SMTP.From }},
		"LEDGER_SMTP_USERNAME":      {"mailer", "", "", func(c service.Config, _ string) string { return c.SMTP.Username }},
		"LEDGER_SMTP_PASSWORD":      {"secret", "", "", func(c service.Config, _ string) string { return c.SMTP.Password }},
		"LEDGER_SELLER_NAME":        {"Seller B.V.", "--seller-name", "Flag B.V.", func(c service.Config, _ string) string { return c.Seller.Name }},
		"LEDGER_SELLER_VAT_ID":      {"NL222222222B01", "--seller-vat-id", "NL111111111B01", func(c service.Config, _ string) string { return c.Seller.VATID }},
		"LEDGER_SELLER_COUNTRY":     {"BE", "--seller-country", "DE", func(c service.Config, _ string) string { return c.Seller.Country }},
		"LEDGER_SELLER_STREET":      {"Kade 1", "--seller-street", "Flag 1", func(c service.Config, _ string) string { return c.Seller.Street }},
		"LEDGER_SELLER_CITY":        {"Delft", "--seller-city", "Flag", func(c service.Config, _ string) string { return c.Seller.City }},
		"LEDGER_SELLER_POSTAL_CODE": {"2611 AA", "--seller-postal-code", "1000 AA", func(c service.Config, _ string) string { return c.Seller.PostalCode }},
		"LEDGER_SELLER_IBAN":        {"NL02ABNA0123456789", "--seller-iban", "NL91ABNA0417164300", func(c service.Config, _ string) string { return c.Seller.IBAN }},
		"LEDGER_SELLER_EMAIL":       {"ar@seller.example", "--seller-email", "f@seller.example", func(c service.Config, _ string) string { return c.Seller.Email }},
		"LEDGER_COLLECTION_COSTS":   {"25.00", "--collection-costs", "10.00", func(c service.Config, _ string) string { return c.CollectionCosts.StringFixed(2) }},
		"LEDGER_MEMORY_LIMIT":       {"300MiB", "--memory-limit", "1GiB", func(_ service.Config, m string) string { return m }},
		"LEDGER_NATS_REPLICAS":      {"3", "--nats-replicas", "1", func(c service.Config, _ string) string { return strconv.Itoa(c.NATSReplicas) }},
		"LEDGER_INSTANCE":           {"ledgerd-2", "--instance", "ledgerd-3", func(c service.Config, _ string) string { return c.Instance }},
		"LEDGER_LOG_LEVEL": {"debug", "--log-level", "error", func(c service.Config, _ string) string {
			switch {
			case c.Log.Enabled(context.Background(), slog.LevelDebug):
				return "debug"
			case c.Log.Enabled(context.Background(), slog.LevelInfo):
				return "info"
			case c.Log.Enabled(context.Background(), slog.LevelWarn):
				return "warn"
			}
			return "error"
		}},
	}
	for name := range named {
		if _, ok := cases[name]; !ok {
			t.Errorf("--help names %s, which this test does not try", name)
		}
	}
	for name, c := range cases {
		if !named[name] {
			t.Errorf("%s is tried here but --help does not name it", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			defaults, limit, err := configure(nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.got(defaults, limit) == c.value {
				t.Fatalf("the default is already %q: pick another value", c.value)
			}
			t.Setenv(name, c.value)
			cfg, limit, err := configure(nil)
			if err != nil || c.got(cfg, limit) != c.value {
				t.Fatalf("%s=%s: got %q, %v", name, c.value, c.got(cfg, limit), err)
			}
			if c.flag == "" {
				return // no flag: a secret kept out of the process list
			}
			args := []string{c.flag}
			if !strings.Contains(c.flag, "=") {
				args = append(args, c.flagValue)
			}
			if cfg, limit, err = configure(args); err != nil || c.got(cfg, limit) != c.flagValue {
				t.Fatalf("%s=%s and %v: got %q, %v; want the flag's %q", name, c.value, args, c.got(cfg, limit), err, c.flagValue)
			}
		})
	}
	// A value that is not one is refused, naming the variable.
	for name, bad := range map[string]string{"LEDGER_METRICS_OPEN": "maybe", "LEDGER_TEST_CLOCK": "yes please",
		"LEDGER_BATCH_SIZE": "many", "LEDGER_COMMIT_GROUP": "all", "LEDGER_PERSONAL_DATA_RETENTION": "90 days"} {
		t.Run(name+"_refused", func(t *testing.T) {
			t.Setenv(name, bad)
			if _, _, err := configure(nil); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v, want refused naming it", name, bad, err)
			}
		})
	} // R14: a retention that would keep the pseudonyms for ever is refused.
	t.Setenv("LEDGER_PERSONAL_DATA_RETENTION", "-1h")
	if _, _, err := configure(nil); err == nil || !strings.Contains(err.Error(), "R14") {
		t.Errorf("a negative retention: %v, want refused naming R14", err)
	}
	t.Setenv("LEDGER_PERSONAL_DATA_RETENTION", "720h")
	for _, bad := range []string{"0", "17"} {
		if _, _, err := configure([]string{"--commit-group", bad}); err == nil || !strings.Contains(err.Error(), "--commit-group must be 1…16") {
			t.Errorf("--commit-group %s: %v, want refused with its range", bad, err)
		}
	}
}
