package main

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/internal/testnet"
	"ledger/sql"
	"ledger/sql/storetest"
)

// The check of issue "Several instances" (docs/scaling.md): three ledgerd on one fresh
// PostgreSQL database and a three-node JetStream cluster, all real processes. It runs with
// make test-cluster (LEDGER_TEST_CLUSTER=1 and LEDGER_TEST_POSTGRES), and in .ci/run.

const (
	clusterAccounts = 200
	clusterEvents   = 60_000
	// Every event is one SMS part to a Dutch mobile in March 2026: €0.075 (tariffs/example).
	clusterPrice = "0.075"
)

type natsNode struct {
	name, client, route, dir, conf string
	cmd                            *exec.Cmd
}

type clusterLedgerd struct {
	name, http string
	args       []string
	cmd        *exec.Cmd
	log        *os.File
}

func TestCluster_three_ledgerd_one_PostgreSQL_three_NATS(t *testing.T) {
	base := os.Getenv("LEDGER_TEST_POSTGRES")
	if os.Getenv("LEDGER_TEST_CLUSTER") == "" || base == "" {
		t.Skip("make test-cluster runs it (LEDGER_TEST_CLUSTER=1 and LEDGER_TEST_POSTGRES)")
	}
	if !storetest.Postgres() {
		t.Skip("runs once, in the pass on PostgreSQL")
	}
	dir := t.TempDir()
	dbURL := freshDatabase(t, base)

	// Three NATS nodes, from the nats-server module, as processes that can be killed.
	nodes, natsURLs, natsBin := startNATSCluster(t, dir, 3)

	// Three ledgerd, each with every NATS URL, the same database, key and test clock.
	key := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ledgers := make([]*clusterLedgerd, 3)
	for i := range ledgers {
		l := &clusterLedgerd{name: fmt.Sprintf("ledgerd-%d", i+1), http: testnet.FreeAddr(t)}
		l.args = []string{"--db", dbURL, "--nats", natsURLs, "--test-clock", "--http", l.http, "--instance", l.name,
			"--data", filepath.Join(dir, l.name), "--pseudonym-key", key}
		ledgers[i] = l
		l.start(t, filepath.Join(dir, l.name+".log"))
	}
	t.Cleanup(func() {
		for _, l := range ledgers {
			l.kill()
		}
		if t.Failed() {
			for _, l := range ledgers {
				b, _ := os.ReadFile(filepath.Join(dir, l.name+".log"))
				t.Logf("%s log (tail):\n%s", l.name, tail(string(b), 40))
			}
		}
	})
	for _, l := range ledgers {
		l.waitReady(t, 60*time.Second)
	}
	if got := leaders(ledgers); len(got) != 1 {
		t.Fatalf("want one leader among the three, have %v", got)
	}
	// GET /v1/info (ledgerctl info) names the instance and says the same of who leads.
	for _, l := range ledgers {
		var info struct {
			Instance string `json:"instance"`
			Leader   bool   `json:"leader"`
		}
		l.do(t, "GET", "/v1/info", "", &info)
		if info.Instance != l.name || info.Leader != (leaders(ledgers)[0] == l) {
			t.Errorf("%s: GET /v1/info says %+v", l.name, info)
		}
	}

	// The clock, set through one instance, is the same on all three.
	ledgers[1].do(t, "POST", "/v1/clock", `{"now":"2026-03-20T12:00:00Z"}`, nil)
	for _, l := range ledgers {
		var c struct {
			Now string `json:"now"`
		}
		l.do(t, "GET", "/v1/clock", "", &c)
		if c.Now != "2026-03-20T12:00:00Z" {
			t.Errorf("%s: clock %q, want the one set through ledgerd-2", l.name, c.Now)
		}
	}

	// 200 accounts, created through the three instances in turn.
	for i := range clusterAccounts {
		body := fmt.Sprintf(`{"id":"acct-%03d","name":"Customer %d","type":"postpaid","country":"NL","registered_at":"2026-01-01T00:00:00Z"}`, i, i)
		ledgers[i%3].do(t, "POST", "/v1/accounts", body, nil)
	}

	// 60,000 events; the leader SIGKILLed after a third, one NATS node after two thirds and
	// started again 10 s later.
	nc, js := publisher(t, natsURLs)
	var killed *clusterLedgerd
	var killedAt time.Time
	var natsBack sync.WaitGroup
	publish(t, js, 0, clusterEvents/3)
	killed = leaders(ledgers)[0]
	killedAt = time.Now()
	killed.kill()
	t.Logf("SIGKILLed the leader %s after %d events", killed.name, clusterEvents/3)
	alive := slices.DeleteFunc(slices.Clone(ledgers), func(l *clusterLedgerd) bool { return l == killed })
	failover := make(chan time.Duration, 1)
	go func() {
		for time.Since(killedAt) < 60*time.Second {
			if len(leaders(alive)) == 1 {
				failover <- time.Since(killedAt)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		failover <- -1
	}()
	publish(t, js, clusterEvents/3, 2*clusterEvents/3)
	nodes[1].kill()
	t.Logf("SIGKILLed NATS node %s after %d events", nodes[1].name, 2*clusterEvents/3)
	natsBack.Add(1)
	go func() {
		defer natsBack.Done()
		time.Sleep(10 * time.Second)
		nodes[1].start(t, natsBin)
	}()
	publish(t, js, 2*clusterEvents/3, clusterEvents)

	if took := <-failover; took < 0 || took > 30*time.Second {
		t.Fatalf("no instance took the leader lease within 30 s of the leader's SIGKILL (%s)", took)
	} else {
		t.Logf("failover: %s took the leader lease %.2f s after the SIGKILL", leaders(alive)[0].name, took.Seconds())
	}

	// Every event charged once: the unbilled total is exact through each live instance.
	want := mulDecimal(t, clusterPrice, clusterEvents)
	for _, l := range alive {
		waitUnbilledTotal(t, l, want, 120*time.Second)
	}
	natsBack.Wait()
	killed.start(t, filepath.Join(dir, killed.name+".log"))
	killed.waitReady(t, 60*time.Second)
	for _, l := range ledgers {
		waitUnbilledTotal(t, l, want, 60*time.Second)
	}
	var parked struct {
		Items []json.RawMessage `json:"items"`
	}
	ledgers[0].do(t, "GET", "/v1/rejected", "", &parked)
	if len(parked.Items) != 0 {
		t.Errorf("%d events parked, want none: %s", len(parked.Items), parked.Items[0])
	}

	// billing.authorize answers from whichever instance the queue group picks, the same.
	for range 6 {
		msg, err := nc.Request("billing.authorize", []byte(`{"account":"acct-007","channel":"sms","destination":"+31612345678","quantity":1}`), 10*time.Second)
		if err != nil {
			t.Fatalf("billing.authorize: %v", err)
		}
		var a struct {
			Allowed bool `json:"allowed"`
		}
		if err := json.Unmarshal(msg.Data, &a); err != nil || !a.Allowed {
			t.Errorf("billing.authorize answered %s, want allowed", msg.Data)
		}
	}

	// The billing run for March, asked of all three at once while one moves the clock into
	// April (whose own due job would run it too): one run, one invoice per account, gap-free
	// numbers, the same list on every instance.
	start := time.Now()
	var wg sync.WaitGroup
	runs := make([]string, 3)
	wg.Add(4)
	go func() { defer wg.Done(); ledgers[0].do(t, "POST", "/v1/clock", `{"now":"2026-04-02T06:00:00Z"}`, nil) }()
	for i, l := range ledgers {
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				status, body := l.request(t, "POST", "/v1/billing-runs", `{"period":"2026-03"}`)
				if status == http.StatusOK || status == http.StatusCreated {
					runs[i] = body
					return
				}
				if status != http.StatusConflict { // 409: March has not ended on this clock yet
					t.Errorf("%s: billing run answered %d %s", l.name, status, body)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Errorf("%s: the billing run was refused for a minute", l.name)
		}()
	}
	wg.Wait()
	t.Logf("billing run of March asked of three instances at once: %.2f s", time.Since(start).Seconds())
	var lists [3][]string
	for i, l := range ledgers {
		lists[i] = invoiceNumbers(t, l)
	}
	if len(lists[0]) != clusterAccounts {
		t.Errorf("%d invoices for March, want one per account (%d)", len(lists[0]), clusterAccounts)
	}
	for i := 1; i < 3; i++ {
		if !slices.Equal(lists[0], lists[i]) {
			t.Errorf("%s lists other invoices than %s", ledgers[i].name, ledgers[0].name)
		}
	}
	checkGapFree(t, lists[0])
	var ranAt []string
	for _, r := range runs {
		if m := regexp.MustCompile(`"ran_at":"([^"]+)"`).FindStringSubmatch(r); m != nil && !slices.Contains(ranAt, m[1]) {
			ranAt = append(ranAt, m[1])
		}
	}
	if len(ranAt) > 1 {
		t.Errorf("the three answers name %d different runs: %v", len(ranAt), ranAt)
	}

	// The whole ledger against the invariants (ledgerctl db check): every transaction balanced,
	// balances the sums of their entries, the entry chains whole across instances, invoices
	// against their documents, the open lines against the charges.
	store, err := sql.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CheckInvariants(context.Background()); err != nil {
		t.Errorf("invariants: %v", err)
	}
}

// startNATSCluster builds nats-server from its module and starts n nodes as one JetStream
// cluster on loopback (one node: no cluster), killed at the end; it returns them, their client
// URLs comma-separated, and the binary.
func startNATSCluster(tb testing.TB, dir string, n int) ([]*natsNode, string, string) {
	tb.Helper()
	natsBin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		tb.Fatalf("build nats-server: %v\n%s", err, out)
	}
	nodes := make([]*natsNode, n)
	for i := range nodes {
		nodes[i] = &natsNode{name: fmt.Sprintf("n%d", i+1), client: testnet.FreeAddr(tb), route: testnet.FreeAddr(tb),
			dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1))}
	}
	for _, node := range nodes {
		host, port := splitAddr(tb, node.client)
		conf := fmt.Sprintf("server_name: %s\nhost: %s\nport: %s\njetstream { store_dir: %q }\n", node.name, host, port, node.dir)
		if n > 1 {
			var routes []string
			for _, o := range nodes {
				if o != node {
					routes = append(routes, `"nats-route://`+o.route+`"`)
				}
			}
			rhost, rport := splitAddr(tb, node.route)
			conf += fmt.Sprintf("cluster { name: ledger, host: %s, port: %s, routes: [%s] }\n", rhost, rport, strings.Join(routes, ", "))
		}
		node.conf = filepath.Join(dir, node.name+".conf")
		if err := os.WriteFile(node.conf, []byte(conf), 0o600); err != nil {
			tb.Fatal(err)
		}
		node.start(tb, natsBin)
	}
	tb.Cleanup(func() {
		for _, node := range nodes {
			node.kill()
		}
	})
	var urls []string
	for _, node := range nodes {
		urls = append(urls, "nats://"+node.client)
	}
	natsURLs := strings.Join(urls, ",")
	waitJetStream(tb, natsURLs)
	return nodes, natsURLs, natsBin
}

// publisher connects to NATS as a platform service does, reconnecting to any of urls; closed at
// the end.
func publisher(tb testing.TB, urls string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	// An acknowledgement lost with a NATS node fails its publish after 5 s (publish tries again).
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// freshDatabase creates a database of its own beside the one base names, dropped at the end.
func freshDatabase(t testing.TB, base string) string {
	t.Helper()
	db, err := stdsql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("ledger_cluster_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func splitAddr(t testing.TB, addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		t.Fatalf("address %q", addr)
	}
	return addr[:i], addr[i+1:]
}

func (n *natsNode) start(t testing.TB, bin string) {
	n.cmd = exec.Command(bin, "-c", n.conf)
	if err := n.cmd.Start(); err != nil {
		t.Errorf("start NATS %s: %v", n.name, err)
	}
}

func (n *natsNode) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		_ = n.cmd.Wait()
	}
}

func waitJetStream(t testing.TB, urls string) {
	t.Helper()
	waitFor(t, 60*time.Second, func() bool {
		nc, err := nats.Connect(urls)
		if err != nil {
			return false
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
		return err == nil
	})
}

func (l *clusterLedgerd) start(t testing.TB, logPath string) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	l.log = f
	l.cmd = exec.Command(binary, l.args...)
	l.cmd.Stdout, l.cmd.Stderr = f, f
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", l.name, err)
	}
}

func (l *clusterLedgerd) kill() {
	if l.cmd != nil && l.cmd.Process != nil && l.cmd.ProcessState == nil {
		_ = l.cmd.Process.Signal(syscall.SIGKILL)
		_ = l.cmd.Wait()
	}
	if l.log != nil {
		l.log.Close()
	}
}

func (l *clusterLedgerd) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() bool {
		resp, err := http.Get("http://" + l.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (l *clusterLedgerd) request(t testing.TB, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+l.http+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 180 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s %s on %s: %v", method, path, l.name, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (l *clusterLedgerd) do(t testing.TB, method, path, body string, out any) {
	t.Helper()
	status, got := l.request(t, method, path, body)
	if status >= 300 {
		t.Fatalf("%s %s on %s: %d %s", method, path, l.name, status, got)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			t.Fatalf("%s %s on %s: %v in %s", method, path, l.name, err, got)
		}
	}
}

// leaders lists the instances whose /metrics say they hold the leader lease.
func leaders(ls []*clusterLedgerd) []*clusterLedgerd {
	var out []*clusterLedgerd
	for _, l := range ls {
		resp, err := http.Get("http://" + l.http + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if bytes.Contains(b, []byte(`ledger_cluster_leader{instance="`+l.name+`"} 1`)) {
			out = append(out, l)
		}
	}
	return out
}

// publish sends events [from, to), one SMS part each, spread over the accounts, as a platform
// service does while a NATS node may die: an event the stream has not acknowledged is published
// again under its own Nats-Msg-Id (the stream keeps one copy; the ledger charges its id once).
func publish(t testing.TB, js jetstream.JetStream, from, to int) {
	t.Helper()
	const chunk = 2000
	for start := from; start < to; start += chunk {
		pending := make([]int, 0, chunk)
		for i := start; i < min(start+chunk, to); i++ {
			pending = append(pending, i)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for len(pending) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("publish: %d events from %d on not acknowledged in 2 minutes", len(pending), pending[0])
			}
			futures := make([]jetstream.PubAckFuture, len(pending))
			for k, i := range pending {
				futures[k], _ = js.PublishMsgAsync(usageMsg(i)) // nil when refused: tried again
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(10 * time.Second):
			}
			var again []int
			for k, i := range pending {
				if f := futures[k]; f != nil {
					select {
					case <-f.Ok():
						continue
					default:
					}
				}
				again = append(again, i)
			}
			if pending = again; len(pending) > 0 {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
}

// usageMsg is event i: one SMS part to a Dutch mobile in March 2026, for one of the accounts.
func usageMsg(i int) *nats.Msg {
	account := fmt.Sprintf("acct-%03d", i%clusterAccounts)
	at := time.Date(2026, 3, 1+i%28, 10, 0, 0, i, time.UTC).Format(time.RFC3339Nano)
	body := fmt.Sprintf(`{"id":"ev-%06d","account":%q,"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":%q}`, i, account, at)
	msg := &nats.Msg{Subject: "usage.sms." + account, Data: []byte(body), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("ev-%06d", i))
	return msg
}

// waitUnbilledTotal waits until the accounts' unbilled amounts, read through l, add up to want.
func waitUnbilledTotal(t *testing.T, l *clusterLedgerd, want string, timeout time.Duration) {
	t.Helper()
	var got string
	start := time.Now()
	for {
		got = unbilledTotal(t, l)
		if got == want {
			t.Logf("%s: unbilled total %s (after %.1f s)", l.name, got, time.Since(start).Seconds())
			return
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: unbilled total %s after %s, want %s", l.name, got, timeout, want)
		}
		time.Sleep(time.Second)
	}
}

func unbilledTotal(t testing.TB, l *clusterLedgerd) string {
	t.Helper()
	var micros int64
	for i := range clusterAccounts {
		var a struct {
			Unbilled string `json:"unbilled"`
		}
		l.do(t, "GET", fmt.Sprintf("/v1/accounts/acct-%03d", i), "", &a)
		micros += toMicros(t, a.Unbilled)
	}
	return fmt.Sprintf("%d.%06d", micros/1e6, micros%1e6)
}

func toMicros(t testing.TB, s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000")[:6]
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("amount %q", s)
	}
	return w*1e6 + f
}

func mulDecimal(t *testing.T, price string, n int) string {
	m := toMicros(t, price) * int64(n)
	return fmt.Sprintf("%d.%06d", m/1e6, m%1e6)
}

// invoiceNumbers lists March's invoices through l, in number order.
func invoiceNumbers(t *testing.T, l *clusterLedgerd) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		path := "/v1/invoices?period=2026-03&limit=100"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		l.do(t, "GET", path, "", &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.Next == "" || len(page.Items) == 0 {
			break
		}
		after = page.Next
	}
	slices.Sort(ids)
	return ids
}

// checkGapFree checks the invoices' numbers run on without a gap.
func checkGapFree(t *testing.T, ids []string) {
	t.Helper()
	digits := regexp.MustCompile(`(\d+)$`)
	var prev int64
	for i, id := range ids {
		m := digits.FindStringSubmatch(id)
		if m == nil {
			t.Fatalf("invoice number %q ends in no number", id)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if i > 0 && n != prev+1 {
			t.Errorf("invoice numbers jump from %d to %d (%s)", prev, n, id)
		}
		prev = n
	}
}

// waitFor polls ok until it holds or timeout passes; it returns how long it took.
func waitFor(t testing.TB, timeout time.Duration, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > timeout {
			t.Fatalf("not so after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
