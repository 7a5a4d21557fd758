package service_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/ledger"
	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// Issue "no input or fault stops the ledger": an event that would cost more than one event may
// (an absurd agreed price times a large quantity) is parked charge_too_large; the events after
// it are charged, not held behind it in a redelivery loop.
func TestRobust_absurd_charge_parked_not_blocking(t *testing.T) {
	e := start(t)
	e.createAccount("absurd", nil)
	e.createAccount("normal", nil)
	prices := "channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n" +
		"sms,,outbound,+31,NL,999999999999.99,,,2026-01-01,SMS NL\n"
	if status, raw := e.apiRaw("", "PUT", "/v1/accounts/absurd/prices", prices); status != 200 && status != 201 {
		t.Fatalf("agreed prices: %d %s", status, raw)
	}
	e.publish(nil, sms("big", "absurd", "+31612345678", 10_000), sms("fine-1", "normal", "+31612345678", 1))
	e.publish(nil, sms("fine-2", "normal", "+31612345678", 1))
	e.settle()
	if n := e.countCharges("normal"); n != 2 {
		t.Fatalf("%d of the 2 events after the absurd one were charged", n)
	}
	parked := e.rejected("charge_too_large")
	if len(parked) != 1 || parked[0].EventID != "big" || !strings.Contains(parked[0].Detail, "1000000 EUR") {
		t.Fatalf("parked charge_too_large = %+v, want the absurd event, saying the limit", parked)
	}
	if n := e.countCharges("absurd"); n != 0 {
		t.Errorf("the absurd event was charged (%d charges)", n)
	}
}

// Issue "no input or fault stops the ledger", times: an instant outside 2000…2099 is refused
// (422) wherever it comes in through the API, and an event's occurred_at outside it is parked
// malformed; the ledger keeps listing and restarts.
func TestRobust_times_outside_the_window(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.createAccount("pre", map[string]any{"type": "prepaid"})
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/accounts", `{"id":"y0","name":"Y","type":"postpaid","country":"NL","registered_at":"0000-01-01T00:00:00+23:59"}`},
		{"POST", "/v1/accounts", `{"id":"y9","name":"Y","type":"postpaid","country":"NL","registered_at":"9999-12-31T23:59:59-23:59"}`},
		{"POST", "/v1/accounts/pre/topups", `{"id":"t0","amount":"10.00","received_at":"1999-12-31T23:59:59Z"}`},
		{"POST", "/v1/accounts/acme/payments", `{"id":"p0","amount":"10.00","received_at":"0001-01-01T00:00:00Z"}`},
		{"POST", "/v1/accounts/acme/claims", `{"id":"c0","amount":"10.00","incident_at":"0000-01-01T00:00:00Z","reason":"x"}`},
		{"POST", "/v1/clock", `{"now":"2100-01-01T00:00:00Z"}`},
	} {
		status, raw := e.apiRaw("", c.method, c.path, c.body)
		if status != 422 || !strings.Contains(string(raw), "outside the instants") {
			t.Errorf("%s %s %s: %d %s, want 422 naming the window", c.method, c.path, c.body, status, raw)
		}
	}
	e.publishRaw("usage.sms.acme", "far", []byte(`{"id":"far","account":"acme","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"0000-01-01T00:00:00+23:59"}`))
	e.settle()
	if parked := e.rejected("malformed"); len(parked) != 1 || !strings.Contains(parked[0].Detail, "outside the instants") {
		t.Errorf("parked malformed = %+v, want the event of year 0", parked)
	}
	e.restart()
	if status, raw := e.apiRaw("", "GET", "/v1/accounts", ""); status != 200 {
		t.Fatalf("GET /v1/accounts after a restart: %d %s", status, raw)
	}
}

// Issue "no input or fault stops the ledger", input hygiene.
func TestRobust_input_hygiene(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.createAccount("pre", map[string]any{"type": "prepaid"})
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"R5_unknown_country_not_0_percent_VAT", "POST", "/v1/accounts", `{"id":"xx","name":"X","type":"postpaid","country":"XX"}`, 422, "ISO 3166-1"},
		{"CRLF_in_name", "POST", "/v1/accounts", `{"id":"crlf","name":"Acme\r\nBcc: x","type":"postpaid","country":"NL"}`, 400, "line break"},
		{"CRLF_in_email", "POST", "/v1/accounts", `{"id":"crlf","name":"Acme","type":"postpaid","country":"NL","email":"a@b.nl\r\nBcc: evil@x.nl"}`, 400, "line break"},
		{"not_an_email", "POST", "/v1/accounts", `{"id":"mail","name":"Acme","type":"postpaid","country":"NL","email":"Acme <a@b.nl>"}`, 400, "e-mail address"},
		{"T&C_3.6_limit_with_extra_decimals", "PUT", "/v1/accounts/acme/credit-limit", `{"amount":"10.123"}`, 400, "more than 2 decimals"},
		{"T&C_3.6_absurd_limit", "PUT", "/v1/accounts/acme/credit-limit", `{"amount":"100000000000000000000"}`, 400, "EUR"},
		{"account_limit_with_extra_decimals", "POST", "/v1/accounts", `{"id":"dec","name":"D","type":"postpaid","country":"NL","credit_limit":"1.001"}`, 400, "more than 2 decimals"},
		{"T&C_3.13_back_dated_topup_not_forfeited_at_once", "POST", "/v1/accounts/pre/topups", `{"id":"old","amount":"10.00","received_at":"2024-02-01T00:00:00Z"}`, 422, "expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, raw := e.apiRaw("", c.method, c.path, c.body)
			if status != c.status || !strings.Contains(string(raw), c.says) {
				t.Errorf("%d %s, want %d saying %q", status, raw, c.status, c.says)
			}
		})
	}
	for _, id := range []string{"xx", "crlf", "mail", "dec"} {
		if status, _ := e.apiRaw("", "GET", "/v1/accounts/"+id, ""); status != 404 {
			t.Errorf("account %s was opened", id)
		}
	}
	if lots := e.account("pre"); lots.ID == "" {
		t.Fatal("no prepaid account")
	}

	// A payment retried with the same id answers as the first time, even when received_at was
	// left out and the clock moved on.
	pay := `{"id":"p-1","amount":"5.00"}`
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/payments", pay); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/clock", `{"now":"2026-04-01T00:00:00Z"}`); status != 200 {
		t.Fatalf("clock: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/payments", pay); status != 200 {
		t.Errorf("the payment retried a day later: %d %s, want 200 as the first time", status, raw)
	}

	// An event whose subject names another account is refused: a publisher allowed one
	// customer's subject cannot bill another.
	e.publishRaw("usage.sms.pre", "wrong-subject", []byte(`{"id":"ws","account":"acme","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2026-03-10T08:00:00Z"}`))
	e.settle()
	if parked := e.rejected("malformed"); len(parked) != 1 || !strings.Contains(parked[0].Detail, "subject") {
		t.Errorf("parked malformed = %+v, want the event on another account's subject", parked)
	}
	if n := e.countCharges("acme"); n != 0 {
		t.Errorf("acme was charged %d events published on pre's subject", n)
	}
}

// A path of the API with a method it does not take answers 405 with Allow.
func TestRobust_wrong_method_405(t *testing.T) {
	e := start(t)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/accounts", "GET, HEAD, POST"},
		{"PUT", "/v1/accounts/acme/topups", "GET, HEAD, POST"},
		{"POST", "/v1/invoices/INV-2026-000001", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+e.svc.HTTPAddr+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.allow)
		}
	}
	if status, _ := e.apiRaw("", "GET", "/v1/nothing-here", ""); status != 404 {
		t.Errorf("an unknown path answers %d, want 404", status)
	}
}

// Issue "no input or fault stops the ledger", size: a notice the stream refuses for good (here,
// larger than the BILLING stream takes) is set aside with its reason and counted; the notices
// after it are published, not held behind it for ever.
func TestRobust_undeliverable_notice_set_aside(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	ctx := context.Background()
	resize := func(max int32) {
		t.Helper()
		s, err := e.js.Stream(ctx, "BILLING")
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.CachedInfo().Config
		cfg.MaxMsgSize = max
		if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	resize(64) // every billing.usage.rejected notice is larger
	e.publishRaw("usage.sms.acme", "bad-1", []byte(`{"id":"bad-1","account":"acme","channel":"sms","quantity":-1}`))
	e.settle()
	e.eventually(10*time.Second, func() error {
		n, err := e.svc.Store.(*sql.Store).FailedOutbox(ctx)
		if err != nil || n != 1 {
			return fmt.Errorf("%d set aside (%v), want 1", n, err)
		}
		return nil
	})
	resize(-1)
	e.publishRaw("usage.sms.acme", "bad-2", []byte(`{"id":"bad-2","account":"acme","channel":"sms","quantity":-1}`))
	e.settle()
	e.eventually(10*time.Second, func() error {
		for _, m := range e.billingOn("billing.usage.rejected") {
			if strings.Contains(fmt.Sprint(m.Body), "bad-2") {
				return nil
			}
		}
		return fmt.Errorf("the notice after the refused one was not published")
	})
	status, raw := e.apiRaw("", "GET", "/metrics", "")
	if status != 200 || !strings.Contains(string(raw), "ledger_outbox_undeliverable_total 1") {
		t.Errorf("ledger_outbox_undeliverable_total is not 1")
	}
}

// Issue "no input or fault stops the ledger", size: an oversized message is parked malformed
// with a bounded copy and the hash of all of it.
func TestRobust_oversized_message_parked_bounded(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	huge := `{"id":"huge","account":"acme","channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2026-03-10T08:00:00Z","pad":"` +
		strings.Repeat("x", 200_000) + `"}`
	e.publishRaw("usage.sms.acme", "huge", []byte(huge))
	e.settle()
	parked := e.rejected("malformed")
	if len(parked) != 1 {
		t.Fatalf("parked %+v, want the oversized message", parked)
	}
	if len(parked[0].Event) > 3*ledger.MaxEventBytes || !strings.Contains(parked[0].Detail, "sha256") {
		t.Errorf("event of %d bytes, detail %q; want it bounded, with the hash of all", len(parked[0].Event), parked[0].Detail)
	}
}

// Issue "no input or fault stops the ledger", state: a database that is missing, empty or
// another ledger's beside a usage consumer that has acknowledged events into another one is
// refused at start, saying what to do; never an empty ledger in silence. The database it
// charged into starts as before.
func TestRobust_foreign_database_refused(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, sms("f-1", "acme", "+31612345678", 1))
	e.settle()
	e.stop()
	home := e.cfg.DB
	for name, db := range map[string]string{
		"missing": storetest.URL(filepath.Join(t.TempDir(), "gone.db")),
		"other":   storetest.URL(filepath.Join(t.TempDir(), "other.db")),
	} {
		t.Run(name, func(t *testing.T) {
			if name == "other" {
				// Another ledger: its own charges, its own instance.
				store, err := sql.Open(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				store.Close()
			}
			cfg := e.cfg
			cfg.DB = db
			svc, err := service.Start(context.Background(), cfg)
			if err == nil {
				svc.Stop(context.Background())
				t.Fatal("ledgerd started on a database the usage consumer never charged into")
			}
			for _, want := range []string{"charged into", "--db", "nats consumer rm USAGE ledger"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	e.cfg.DB = home
	e.launch()
	if n := e.countCharges("acme"); n != 1 {
		t.Errorf("%d charges after starting on the right database again, want 1", n)
	}
}

// A usage consumer deleted under the running ledger makes /readyz say so until the leader
// creates it again (within service.ConsumerCheckInterval, without a restart); usage published
// before and after is charged, once.
func TestRobust_deleted_consumer_created_again(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, sms("before", "acme", "+31612345678", 1))
	e.waitUnbilled("acme", "0.075000")
	if err := e.js.DeleteConsumer(context.Background(), "USAGE", "ledger"); err != nil {
		t.Fatal(err)
	}
	e.waitNotReady("was deleted")
	e.waitReady()
	e.publish(nil, sms("after", "acme", "+31612345678", 2))
	e.waitUnbilled("acme", "0.225000") // 0.075 + 2 × 0.075: "before", delivered again, is a duplicate
	e.restart()
	e.waitUnbilled("acme", "0.225000")
}
