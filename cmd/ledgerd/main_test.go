package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/internal/testnet"
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
