package service_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/events"
	"ledger/internal/testnet"
	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// With LEDGER_TEST_NATS naming a NATS server with JetStream, ledgerd runs against it (--nats)
// instead of the embedded one. The test owns the USAGE and BILLING streams on that server: it
// deletes them first, so that nothing from an earlier run is charged.
func TestExternalNATS_charges_exactly_once(t *testing.T) {
	url := os.Getenv("LEDGER_TEST_NATS")
	if url == "" {
		t.Skip("LEDGER_TEST_NATS is not set (CI sets it to the machine's NATS server)")
	}
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("LEDGER_TEST_NATS=%s: %v", url, err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{events.UsageStream, events.BillingStream} {
		if err := js.DeleteStream(ctx, name); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatalf("delete stream %s: %v", name, err)
		}
	}
	nc.Close()

	e := start(t, func(c *service.Config) { c.NATS = url })
	if e.svc.Embedded != nil {
		t.Fatal("an embedded server started although --nats was given")
	}
	e.createAccount("ext", nil)
	ev := sms("ext-1", "ext", "+31612345678", 2)
	e.publish(nil, ev)
	e.publish(func(event) string { return "ext-again" }, ev)
	e.publish(nil, sms("ext-2", "ext-unknown", "+31612345678", 1))
	e.settle()
	e.waitUnbilled("ext", "0.150000")
	if got := len(e.rejected("unknown_account")); got != 1 {
		t.Errorf("%d parked unknown_account, want 1", got)
	}
	e.eventually(10*time.Second, func() error {
		if len(e.billingOn("billing.usage.rejected")) == 0 {
			return errors.New("no billing.usage.rejected notice on the external server")
		}
		return nil
	})
}

// CONTRACT 1: a taken --nats-listen port is reported with the two ways out.
func TestEmbeddedNATS_port_taken_names_the_flags(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = events.StartEmbedded(l.Addr().String(), t.TempDir())
	if err == nil {
		t.Fatal("the embedded server started on a taken port")
	}
	for _, want := range []string{"in use", "--nats-listen", "--nats", l.Addr().String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A PostgreSQL server that does not answer stops the start with a message that names the
// server and never the password.
func TestDB_postgres_unreachable_said_plainly(t *testing.T) {
	addr := testnet.FreeAddr(t) // nothing listens there
	url := "postgres://ledger:s3cret-pw@" + addr + "/ledger?connect_timeout=2"
	_, err := service.Start(context.Background(), service.Config{OpenStore: service.Opener(sql.Open), Data: t.TempDir(), DB: url, NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "connect to PostgreSQL at postgres://ledger:…@"+addr) {
		t.Fatalf("start with --db on a closed port: %v, want it to name the server without the password", err)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

// A second ledgerd on the same SQLite file is refused at start, saying which file and why:
// two writers, each with its own view of the journal in memory, would break the chains.
func TestDB_second_ledgerd_on_one_sqlite_file_refused(t *testing.T) {
	if storetest.Postgres() {
		t.Skip("SQLite only")
	}
	e := start(t)
	cfg := e.cfg
	cfg.NATSListen, cfg.HTTP = "127.0.0.1:0", "127.0.0.1:0"
	svc, err := service.Start(context.Background(), cfg)
	if err == nil {
		svc.Stop(context.Background())
		t.Fatal("a second ledgerd started on the same SQLite file")
	}
	if !strings.Contains(err.Error(), "is in use by a running ledgerd") || !strings.Contains(err.Error(), "ledger.db.lock") {
		t.Fatalf("second ledgerd: %v, want it to say the file is in use and name the lock", err)
	}
}

// /readyz while NATS is away: a NATS server of the test's own (outside ledgerd, as --nats would
// name one) stopped under the running ledger makes it answer not ready, naming NATS; started
// again on the same store, ledgerd reconnects by itself, keeps its consumer, is ready again and
// charges what is published, exactly once.
func TestExternalNATS_down_not_ready_then_resumes(t *testing.T) {
	addr, dir := testnet.FreeAddr(t), t.TempDir()
	ns, err := events.StartEmbedded(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown() })
	e := start(t, func(c *service.Config) { c.NATS = ns.ClientURL() })
	e.createAccount("away", nil)
	e.publish(nil, sms("away-1", "away", "+31612345678", 1))
	e.waitUnbilled("away", "0.075000")

	ns.Shutdown()
	ns.WaitForShutdown()
	e.waitNotReady("NATS")

	ns, err = events.StartEmbedded(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown() })
	e.eventually(20*time.Second, func() error {
		if s := readyz(e); s != http.StatusOK {
			return fmt.Errorf("readyz %d after NATS came back, want 200", s)
		}
		return nil
	})
	e.publish(nil, sms("away-2", "away", "+31612345678", 1))
	e.publish(nil, sms("away-1", "away", "+31612345678", 1)) // again: a duplicate
	e.waitUnbilled("away", "0.150000")
	e.settle()
	if got := e.account("away").Unbilled; got != "0.150000" {
		t.Errorf("unbilled %s once everything is acknowledged, want 0.150000: two events, each charged once", got)
	}
}
