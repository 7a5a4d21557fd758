package service_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ledger/service"
	"ledger/sql/storetest"
)

// tcpProxy stands between ledgerd and PostgreSQL so that a test can take the database away
// (refuse new connections and cut the open ones) and bring it back, as a network failure or a
// server restart would.
type tcpProxy struct {
	t      *testing.T
	addr   string // where ledgerd connects
	target string // the PostgreSQL server
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, addr: "127.0.0.1:0", target: target, conns: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[s] = true, true
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// down refuses new connections and cuts every open one.
func (p *tcpProxy) down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}

// waitNotReady waits until /readyz answers 503 with a reason that contains saying.
func (e *env) waitNotReady(saying string) {
	e.t.Helper()
	e.eventually(10*time.Second, func() error {
		resp, err := http.Get("http://" + e.svc.HTTPAddr + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), saying) {
			return fmt.Errorf("readyz %d %s, want 503 saying %q", resp.StatusCode, body, saying)
		}
		return nil
	})
}

func readyz(e *env) int {
	resp, err := http.Get("http://" + e.svc.HTTPAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Item 7 of the PostgreSQL issue: the database going away — its connections terminated by the
// server (pg_terminate_backend) or the server unreachable — makes /readyz not ready and
// ingestion pause and retry; nothing is acknowledged that was not committed, and when the
// database is back everything is charged, exactly once.
func TestFaults_R1_postgres_goes_away_nothing_lost_or_charged_twice(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("PostgreSQL only: a SQLite database is a file in the process")
	}
	dbURL := storetest.URL(t.TempDir() + "/faults.db")
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	e := start(t, func(c *service.Config) { c.DB = u.String() })
	e.createAccount("fault", nil)

	admin, err := stdsql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	terminate := func() int {
		var n int
		if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// 1. Connections terminated while events flow: 20 rounds of 100 events, each followed by
	// killing every ledgerd connection.
	const rounds, perRound = 20, 100
	for r := 0; r < rounds; r++ {
		evs := make([]event, perRound)
		for i := range evs {
			evs[i] = sms(fmt.Sprintf("k-%d-%d", r, i), "fault", "+31612345678", 1)
		}
		e.publish(nil, evs...)
		if killed := terminate(); r == 0 && killed == 0 {
			t.Fatal("no ledgerd connection to terminate: is the service on this database?")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.settle()
	e.waitUnbilled("fault", "150.000000") // 2,000 × €0.075
	if n := e.countCharges("fault"); n != rounds*perRound {
		t.Fatalf("%d charges, want %d", n, rounds*perRound)
	}

	// 2. The server unreachable: not ready, nothing charged, nothing acknowledged.
	proxy.down()
	e.eventually(15*time.Second, func() error {
		if s := readyz(e); s != http.StatusServiceUnavailable {
			return fmt.Errorf("readyz %d with the database unreachable, want 503", s)
		}
		return nil
	})
	evs := make([]event, 500)
	for i := range evs {
		evs[i] = sms(fmt.Sprintf("u-%d", i), "fault", "+31612345678", 1)
	}
	e.publish(nil, evs...)
	// The same events again under other message ids: JetStream delivers them twice.
	e.publish(func(ev event) string { return "again-" + ev.ID }, evs[:100]...)
	time.Sleep(1500 * time.Millisecond) // a few commit attempts fail meanwhile
	if s := readyz(e); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d while the database is still unreachable, want 503", s)
	}

	// 3. Back: ready again by itself, every event charged once.
	proxy.up()
	e.eventually(30*time.Second, func() error {
		if s := readyz(e); s != http.StatusOK {
			return fmt.Errorf("readyz %d after the database came back, want 200", s)
		}
		return nil
	})
	e.settle()
	e.waitUnbilled("fault", "187.500000") // 2,500 × €0.075
	if n := e.countCharges("fault"); n != rounds*perRound+500 {
		t.Fatalf("%d charges, want %d", n, rounds*perRound+500)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.svc.Store.CheckInvariants(ctx); err != nil {
		t.Fatalf("invariants after the faults: %v", err)
	}
}
