package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/service"
)

// Issue 14, NATS: with --nats-users the embedded server lets publishers publish usage only (one
// account's, with publisher:ACCOUNT), subscribers read notices only, and no one else in; the
// ledger alone publishes billing.* and answers billing.authorize.
func TestNATSUsers_least_privilege(t *testing.T) {
	users := filepath.Join(t.TempDir(), "nats-users")
	const pw = "0123456789abcdef-"
	if err := os.WriteFile(users, []byte("# USER PASSWORD ROLE\nplatform "+pw+"1 publisher\nacme-svc "+pw+"2 publisher:acme\nfinance "+pw+"3 subscriber\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.NATSUsers = users })
	e.createAccount("acme", nil)
	e.createAccount("other", nil)
	connect := func(user, password string) (*nats.Conn, chan error) {
		t.Helper()
		errs := make(chan error, 16)
		nc, err := nats.Connect(e.svc.NATSURL, nats.UserInfo(user, password), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			errs <- err
		}))
		if err != nil {
			t.Fatalf("connect as %s: %v", user, err)
		}
		t.Cleanup(nc.Close)
		return nc, errs
	}
	if nc, err := nats.Connect(e.svc.NATSURL); err == nil {
		nc.Close()
		t.Fatal("an anonymous client was let in")
	}
	if nc, err := nats.Connect(e.svc.NATSURL, nats.UserInfo("platform", "wrong-password-0000")); err == nil {
		nc.Close()
		t.Fatal("a wrong password was let in")
	}
	publish := func(nc *nats.Conn, subject, id, account string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // a refused publish gets no answer
		defer cancel()
		js, _ := jetstream.New(nc)
		m := nats.NewMsg(subject)
		m.Header.Set("Nats-Msg-Id", id)
		m.Data = []byte(`{"id":"` + id + `","account":"` + account + `","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2026-03-10T08:00:00Z"}`)
		_, err := js.PublishMsg(ctx, m)
		return err
	}

	finance, financeErrs := connect("finance", pw+"3")
	notices := make(chan *nats.Msg, 16)
	if _, err := finance.ChanSubscribe("billing.>", notices); err != nil {
		t.Fatal(err)
	}
	finance.Flush()

	platform, platformErrs := connect("platform", pw+"1")
	if err := publish(platform, "usage.sms.other", "n-1", "other"); err != nil {
		t.Fatalf("a publisher publishing usage: %v", err)
	}
	acmeSvc, _ := connect("acme-svc", pw+"2")
	if err := publish(acmeSvc, "usage.sms.acme", "n-2", "acme"); err != nil {
		t.Fatalf("publisher:acme publishing acme's usage: %v", err)
	}
	if err := publish(acmeSvc, "usage.sms.other", "n-3", "other"); err == nil {
		t.Error("publisher:acme published usage of another account")
	}
	e.eventually(10*time.Second, func() error {
		if a, o := e.countCharges("acme"), e.countCharges("other"); a != 1 || o != 1 {
			return fmt.Errorf("charged acme %d, other %d; want 1 and 1", a, o)
		}
		return nil
	})
	// An authorisation is asked by a publisher and answered by the ledger alone.
	reply, err := platform.Request("billing.authorize", []byte(`{"account":"acme"}`), 5*time.Second)
	if err != nil || !strings.Contains(string(reply.Data), "allowed") {
		t.Errorf("billing.authorize from a publisher: %v %+v", err, reply)
	}
	// A publisher cannot forge the ledger's notices; a subscriber cannot publish anything.
	platform.Publish("billing.invoice.issued", []byte(`{"forged":true}`))
	platform.Flush()
	finance.Publish("usage.sms.acme", []byte(`{}`))
	finance.Flush()
	for name, errs := range map[string]chan error{"publisher": platformErrs, "subscriber": financeErrs} {
		select {
		case err := <-errs:
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Errorf("%s: %v, want a permissions violation", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("the %s's forbidden publish went unrefused", name)
		}
	}
	// The subscriber reads the ledger's notices, and no forged one: usage of an unknown account
	// is parked and announced.
	if err := publish(platform, "usage.sms.ghost", "n-4", "ghost"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for seen := false; !seen; {
		select {
		case m := <-notices:
			if strings.Contains(string(m.Data), "forged") {
				t.Fatal("a publisher's forged notice reached the subscriber")
			}
			seen = strings.HasPrefix(m.Subject, "billing.")
		case <-deadline:
			t.Fatal("the subscriber saw no notice of the ledger")
		}
	}
}
