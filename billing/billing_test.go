package billing_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
	"ledger/sql"
	"ledger/sql/storetest"
	"ledger/tariffs"
)

// The use cases run against the real store: SQLite, and PostgreSQL with LEDGER_TEST_POSTGRES.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// books is a ledger on the test clock, wired as ledgerd wires it.
type books struct {
	t     *testing.T
	ctx   context.Context
	store *sql.Store
	clock *clock.Test
	uses  *billing.Service
}

func newBooks(t *testing.T, start string) *books {
	t.Helper()
	ctx := context.Background()
	store, err := sql.Open(ctx, storetest.URL(filepath.Join(t.TempDir(), "ledger.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.CheckInvariants(context.Background()); err != nil {
			t.Errorf("invariants: %v", err)
		}
		store.Close()
	})
	tf, err := pricing.LoadFS(tariffs.Example())
	if err != nil {
		t.Fatal(err)
	}
	policy, err := ledger.NewCreditPolicy([]string{"0.8", "0.9"})
	if err != nil {
		t.Fatal(err)
	}
	book := ledger.NewCreditBook()
	if err := store.UseCredit(ctx, book, policy); err != nil {
		t.Fatal(err)
	}
	if err := store.UsePricing(ctx, tf); err != nil {
		t.Fatal(err)
	}
	store.UseInvoicing(billing.Invoicing{Rates: invoices.RatesOf(tf.Interest()), CollectionCosts: invoices.CollectionCosts})
	test := clock.NewTest(at(start), false)
	return &books{t: t, ctx: ctx, store: store, clock: test,
		uses: billing.New(billing.StoresOf(store), test, test, book, tf)}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (b *books) open(id, kind string) {
	b.t.Helper()
	limit := "5000.00"
	if _, _, err := b.uses.CreateAccount(b.ctx, ledger.NewAccount{ID: id, Name: "Acme " + id, Type: kind, Country: "NL",
		VATID: "NL123456789B01", Email: "billing@" + id + ".example", CreditLimit: &limit}, "test"); err != nil {
		b.t.Fatalf("open %s: %v", id, err)
	}
}

// sms charges n one-part SMS to a Dutch mobile, at the clock's time.
func (b *books) sms(account string, from, n int) ledger.BatchPlan {
	b.t.Helper()
	ds := make([]ledger.Delivery, n)
	for i := range ds {
		ds[i] = ledger.Delivery{Subject: "usage.sms." + account, Data: fmt.Appendf(nil,
			`{"id":"%s-%d","account":%q,"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":%q}`,
			account, from+i, account, b.clock.Now().Format(time.RFC3339))}
	}
	pb, err := b.uses.Charging.Prepare(ds)
	if err != nil {
		b.t.Fatal(err)
	}
	plan, err := b.uses.Charging.Commit(b.ctx, pb)
	if err != nil {
		b.t.Fatal(err)
	}
	return plan
}

// marchInvoice opens acme, charges it ten SMS in March and runs March's billing on 1 April;
// it returns the invoice's number.
func (b *books) marchInvoice() string {
	b.t.Helper()
	b.open("acme", "postpaid")
	b.sms("acme", 0, 10)
	b.clock.Set(at("2026-04-01T08:00:00Z"))
	runs, _, err := b.uses.RunBilling(b.ctx, invoices.Period{Year: 2026, Month: time.March}, "finance")
	if err != nil || len(runs) != 1 || len(runs[0].Invoices) != 1 {
		b.t.Fatalf("March's run: %+v, %v", runs, err)
	}
	return runs[0].Invoices[0]
}

// wantRefusal checks that err has the code and names the clause.
func wantRefusal(t *testing.T, err error, code ledger.Code, clause string) {
	t.Helper()
	if err == nil || ledger.ErrorCode(err) != code || !strings.Contains(err.Error(), clause) {
		t.Fatalf("got %v (code %q); want code %q naming %s", err, ledger.ErrorCode(err), code, clause)
	}
}

func TestUseCases(t *testing.T) {
	t.Run("T&C_3.6_credit_limit_in_cents_never_negative", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		b.open("acme", "postpaid")
		_, err := b.uses.SetCreditLimit(b.ctx, "acme", decimal.RequireFromString("-0.01"), "test")
		wantRefusal(t, err, ledger.CodeInvalid, "T&C 3.6")
		// More decimals than cents are refused, not rounded; so is an absurd limit.
		_, err = b.uses.SetCreditLimit(b.ctx, "acme", decimal.RequireFromString("1234.567"), "test")
		wantRefusal(t, err, ledger.CodeInvalid, "T&C 3.6")
		_, err = b.uses.SetCreditLimit(b.ctx, "acme", decimal.RequireFromString("100000000000000000000"), "test")
		wantRefusal(t, err, ledger.CodeInvalid, "EUR")
		limit, err := b.uses.SetCreditLimit(b.ctx, "acme", decimal.RequireFromString("1234.57"), "test")
		if err != nil || limit != money.Micros(1_234_570_000) {
			t.Fatalf("limit %s, %v; want 1234.57", limit, err)
		}
		v, err := b.uses.Accounts.Account(b.ctx, "acme")
		if err != nil || !v.CreditLimit.Equal(decimal.RequireFromString("1234.57")) {
			t.Fatalf("account's limit %s, %v; want 1234.57", v.CreditLimit, err)
		}
	})

	t.Run("accounts_are_created_once_on_their_terms", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		limit := "5000.00"
		req := ledger.NewAccount{ID: "acme", Name: "Acme", Type: "postpaid", Country: "NL", VATID: "NL123456789B01",
			Email: "billing@acme.example", CreditLimit: &limit}
		first, created, err := b.uses.CreateAccount(b.ctx, req, "admin")
		if err != nil || !created {
			t.Fatalf("create: %v, created %v", err, created)
		}
		b.clock.Set(at("2026-03-03T09:00:00Z")) // a retry a day later, registered_at not given: the same account
		again, created, err := b.uses.CreateAccount(b.ctx, req, "admin")
		if err != nil || created || !again.RegisteredAt.Equal(first.RegisteredAt) {
			t.Fatalf("retry: %+v created %v, %v; want the first account", again, created, err)
		}
		other := req
		other.Email = "finance@acme.example"
		if _, _, err := b.uses.CreateAccount(b.ctx, other, "admin"); ledger.ErrorCode(err) != ledger.CodeConflict {
			t.Fatalf("other terms under the same id: %v; want a conflict", err)
		}
		registered := "2026-01-01T00:00:00Z"
		other = req
		other.RegisteredAt = &registered
		if _, _, err := b.uses.CreateAccount(b.ctx, other, "admin"); ledger.ErrorCode(err) != ledger.CodeConflict {
			t.Fatalf("another registration date: %v; want a conflict", err)
		}
	})

	t.Run("T&C_3.13_prepaid_never_refunded_T&C_3.10_postpaid_set_off", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		b.open("pre", "prepaid")
		b.open("post", "postpaid")
		wantRefusal(t, b.uses.Refund(b.ctx, "pre"), ledger.CodeRefused, "T&C 3.13")
		wantRefusal(t, b.uses.Refund(b.ctx, "post"), ledger.CodeRefused, "T&C 3.7, 3.10")
		wantRefusal(t, b.uses.Refund(b.ctx, "nobody"), ledger.CodeNotFound, "nobody")
	})

	t.Run("T&C_8.4_a_claim_says_when_its_incident_happened", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		b.open("acme", "postpaid")
		_, _, err := b.uses.FileClaim(b.ctx, "acme", ledger.Claim{ID: "c1", Amount: money.Micros(10_000_000), Reason: "outage"}, "test")
		wantRefusal(t, err, ledger.CodeInvalid, "T&C 8.4")
		v, created, err := b.uses.FileClaim(b.ctx, "acme", ledger.Claim{ID: "c1", Amount: money.Micros(10_000_000), Reason: "outage",
			IncidentAt: at("2026-03-01T12:00:00Z")}, "test")
		// Nothing was paid in the 12 months before the incident: the cap is 0, nothing granted.
		if err != nil || !created || v.Granted != 0 || v.Refusal() == nil {
			t.Fatalf("claim: %+v created %v, %v; want filed, nothing granted", v, created, err)
		}
	})

	t.Run("T&C_3.13_top_up_usable_from_the_next_day_when_the_clock_moves", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		b.open("pre", "prepaid")
		if _, _, err := b.uses.TopUp(b.ctx, "pre", ledger.NewTopUp{ID: "t1", Amount: "20.00", Method: "bank"}, "test"); err != nil {
			t.Fatal(err)
		}
		if p, _ := b.uses.Lots.Prepaid(b.ctx, "pre"); p.Usable != 0 || p.Pending != money.Micros(20_000_000) {
			t.Fatalf("on the day of receipt: usable %s, pending %s; want 0, 20", p.Usable, p.Pending)
		}
		// 00:00 Amsterdam on 3 March is 23:00 UTC on 2 March (CET).
		if err := b.uses.SetClock(b.ctx, at("2026-03-02T23:00:00Z")); err != nil {
			t.Fatal(err)
		}
		if p, _ := b.uses.Lots.Prepaid(b.ctx, "pre"); p.Usable != money.Micros(20_000_000) {
			t.Fatalf("from 00:00 Amsterdam the next day: usable %s; want 20", p.Usable)
		}
		if saved, ok, err := b.store.TestClock(b.ctx); err != nil || !ok || !saved.Equal(at("2026-03-02T23:00:00Z")) {
			t.Fatalf("saved clock %s %v %v; want the time set, kept for a restart", saved, ok, err)
		}
		wantRefusal(t, b.uses.SetClock(b.ctx, at("2026-03-02T22:00:00Z")), ledger.CodeConflict, "only moves forward")
	})

	t.Run("R13_a_terminated_prepaid_account_is_not_reopened_by_money_received_before", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		b.open("pre", "prepaid")
		b.clock.Set(at("2026-03-10T12:00:00Z"))
		if err := b.uses.Terminate(b.ctx, "pre", time.Time{}, "admin"); err != nil {
			t.Fatal(err)
		}
		_, _, err := b.uses.TopUp(b.ctx, "pre", ledger.NewTopUp{ID: "late", Amount: "20.00", ReceivedAt: "2026-03-10T08:00:00Z", Method: "bank"}, "finance")
		wantRefusal(t, err, ledger.CodeConflict, "it takes no top-ups")
		if v, err := b.uses.Accounts.Account(b.ctx, "pre"); err != nil || v.Status != ledger.Closed || v.ClosedReason != ledger.ClosedTerminated {
			t.Fatalf("account after the refused top-up: %+v, %v; want closed, terminated", v, err)
		}
	})

	t.Run("no_test_clock_no_setting_it", func(t *testing.T) {
		b := newBooks(t, "2026-03-02T09:00:00Z")
		wall := billing.New(billing.StoresOf(b.store), clock.System{}, nil, ledger.NewCreditBook(), b.uses.Charging.Tariffs())
		wantRefusal(t, wall.SetClock(b.ctx, at("2030-01-01T00:00:00Z")), ledger.CodeNotFound, "--test-clock")
		if _, err := wall.TestNow(); ledger.ErrorCode(err) != ledger.CodeNotFound {
			t.Fatalf("TestNow on the wall clock: %v", err)
		}
	})

	t.Run("R5_a_period_runs_once_and_only_once_it_has_ended", func(t *testing.T) {
		b := newBooks(t, "2026-03-10T09:00:00Z")
		b.open("acme", "postpaid")
		if plan := b.sms("acme", 0, 10); len(plan.Charges) != 10 {
			t.Fatalf("charged %d of 10", len(plan.Charges))
		}
		march := invoices.Period{Year: 2026, Month: time.March}
		_, _, err := b.uses.RunBilling(b.ctx, march, "finance")
		wantRefusal(t, err, ledger.CodeConflict, "has not ended")

		// Once the period has ended (00:00 Amsterdam on 1 April is 22:00 UTC on 31 March, CEST),
		// what is due runs first: the clock's run issues the period's invoices, and the request
		// is answered with that run, ran before. Asked again, the same answer; nothing new issued.
		b.clock.Set(at("2026-03-31T22:30:00Z"))
		runs, ranBefore, err := b.uses.RunBilling(b.ctx, march, "finance")
		if err != nil || !ranBefore || len(runs) != 1 || len(runs[0].Invoices) != 1 || runs[0].By != "clock" {
			t.Fatalf("first ask: %+v ranBefore %v, %v; want the clock's run with one invoice, ran before", runs, ranBefore, err)
		}
		again, ranBefore, err := b.uses.RunBilling(b.ctx, march, "someone else")
		if err != nil || !ranBefore || len(again) != 1 || fmt.Sprint(again[0].Invoices) != fmt.Sprint(runs[0].Invoices) {
			t.Fatalf("asked again: %+v ranBefore %v, %v; want the same run, ran before", again, ranBefore, err)
		}
		all, err := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{Account: "acme"}, "", 100)
		if err != nil || len(all) != 1 {
			t.Fatalf("invoices %d, %v; want 1: a period is invoiced once (R5)", len(all), err)
		}
	})

	t.Run("T&C_3.11_a_dispute_is_made_in_writing", func(t *testing.T) {
		b := newBooks(t, "2026-03-10T09:00:00Z")
		invoice := b.marchInvoice()
		_, _, err := b.uses.OpenDispute(b.ctx, invoice, billing.NewDispute{ID: "d1", Amount: money.Micros(100_000), Reason: "  "})
		wantRefusal(t, err, ledger.CodeInvalid, "T&C 3.11")
		v, created, err := b.uses.OpenDispute(b.ctx, invoice, billing.NewDispute{ID: "d1", Amount: money.Micros(100_000), Reason: " wrong count "})
		if err != nil || !created || v.Reason != "wrong count" || !v.OpenedAt.Equal(b.clock.Now()) {
			t.Fatalf("dispute: %+v created %v, %v; want opened now with the reason trimmed", v, created, err)
		}
	})

	t.Run("R7_a_dispute_resolved_twice_at_once_is_credited_once", func(t *testing.T) {
		b := newBooks(t, "2026-03-10T09:00:00Z")
		invoice := b.marchInvoice()
		if _, _, err := b.uses.OpenDispute(b.ctx, invoice, billing.NewDispute{ID: "d1", Amount: money.Micros(100_000), Reason: "wrong count"}); err != nil {
			t.Fatal(err)
		}
		const n = 40
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := b.uses.ResolveDispute(b.ctx, "d1", ledger.DisputeAccepted, "finance")
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("resolve: %v; want every copy answered with the resolved dispute", err)
			}
		}
		notes, err := b.uses.Receivables.CreditNotes(b.ctx, "acme", "", 100)
		if err != nil || len(notes) != 1 {
			t.Fatalf("%d credit notes, %v; want 1 for the one dispute", len(notes), err)
		}
		if _, err := b.uses.ResolveDispute(b.ctx, "d1", ledger.DisputeRejected, "finance"); ledger.ErrorCode(err) != ledger.CodeConflict {
			t.Fatalf("rejecting an accepted dispute: %v; want a conflict", err)
		}
	})

	t.Run("R1_replay_charges_what_was_parked_once_its_cause_is_fixed", func(t *testing.T) {
		b := newBooks(t, "2026-03-10T09:00:00Z")
		plan := b.sms("late", 0, 3) // no such account yet
		if len(plan.Parked) != 3 || plan.Parked[0].Reason != ledger.ReasonUnknownAccount {
			t.Fatalf("parked %+v; want 3 unknown_account", plan.Parked)
		}
		b.open("late", "postpaid")
		res, err := b.uses.Charging.Replay(b.ctx, string(ledger.ReasonUnknownAccount))
		if err != nil || res.Replayed != 3 || res.Charged != 3 || res.StillOpen != 0 {
			t.Fatalf("replay: %+v, %v; want 3 replayed and charged", res, err)
		}
		res, err = b.uses.Charging.Replay(b.ctx, "")
		if err != nil || res.Replayed != 0 {
			t.Fatalf("second replay: %+v, %v; want nothing left", res, err)
		}
	})

	t.Run("T&C_3.5_authorisation_from_the_book_and_the_tariffs", func(t *testing.T) {
		b := newBooks(t, "2026-03-10T09:00:00Z")
		b.open("acme", "postpaid")
		_, err := b.uses.Charging.Authorize(billing.AuthorizeRequest{Account: "no such id!", Channel: "sms"})
		if ledger.ErrorCode(err) != ledger.CodeInvalid {
			t.Fatalf("bad account id: %v; want invalid", err)
		}
		r, err := b.uses.Charging.Authorize(billing.AuthorizeRequest{Account: "acme", Channel: "sms", Destination: "+31612345678", Quantity: 2})
		if err != nil || !r.Allowed || r.Estimate != "0.150000" {
			t.Fatalf("2 SMS to NL at 0.075: %+v, %v; want allowed, estimate 0.150000", r, err)
		}
		if _, err := b.uses.SetCreditLimit(b.ctx, "acme", decimal.Zero, "test"); err != nil {
			t.Fatal(err)
		}
		b.sms("acme", 0, 1)
		r, err = b.uses.Charging.Authorize(billing.AuthorizeRequest{Account: "acme", Channel: "sms", Destination: "+31612345678", Quantity: 1})
		if err != nil || r.Allowed {
			t.Fatalf("after the credit was cancelled and used: %+v, %v; want refused", r, err)
		}
	})
}
