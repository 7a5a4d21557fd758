package sql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
	"ledger/sql"
	"ledger/sql/storetest"
	"ledger/tariffs"
)

// fixture is a store on a real SQLite file with credit control, charged as ingestion charges:
// events prepared with the example tariffs and committed in batches.
type fixture struct {
	t       rapid.TB
	ctx     context.Context
	path    string
	store   *sql.Store
	book    *ledger.CreditBook
	tariffs *pricing.Tariffs
	seq     int
	// invoicing: billing runs and overdue invoices on the clock (UseInvoicing), after each open
	invoicing bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := openFixture(t, filepath.Join(t.TempDir(), "ledger.db"))
	t.Cleanup(f.close)
	return f
}

// openFixture opens a fixture on the database at path; close it with close.
func openFixture(t rapid.TB, path string) *fixture {
	t.Helper()
	tr, err := pricing.LoadFS(tariffs.Example())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), path: path, tariffs: tr}
	f.open()
	return f
}

// close checks the invariants and closes the store.
func (f *fixture) close() {
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		f.t.Errorf("invariants at the end: %v", err)
	}
	f.store.Close()
}

func (f *fixture) open() {
	f.t.Helper()
	s, err := sql.Open(f.ctx, storetest.URL(f.path))
	if err != nil {
		f.t.Fatal(err)
	}
	policy, err := ledger.NewCreditPolicy(ledger.DefaultThresholds)
	if err != nil {
		f.t.Fatal(err)
	}
	f.store, f.book = s, ledger.NewCreditBook()
	if err := s.UseCredit(f.ctx, f.book, policy); err != nil {
		f.t.Fatal(err)
	}
	if err := s.UsePricing(f.ctx, f.tariffs); err != nil {
		f.t.Fatal(err)
	}
	if f.invoicing {
		f.useInvoicing()
	}
}

// useInvoicing turns on the clock-driven side of invoicing with the example interest rates.
func (f *fixture) useInvoicing() {
	f.store.UseInvoicing(billing.Invoicing{Rates: invoices.RatesOf(f.tariffs.Interest()), CollectionCosts: invoices.CollectionCosts})
}

// reopen closes the store and opens it again, as a restart does.
func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.store.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func eur(s string) money.Micros {
	d, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return money.MustMicros(d)
}

// account creates an account. It opts out of indexation (T&C 3.4): the fixture's amounts are the
// example list prices of 2026 at any date, and charging in 2027 would otherwise need the CPI
// change of 2026, which the example set does not have yet (R3). Indexation has tests of its own.
func (f *fixture) account(id, typ, registered string) {
	f.t.Helper()
	f.newAccount(id, typ, registered, false)
}

// newAccount creates an account, indexed (R3) or not.
func (f *fixture) newAccount(id, typ, registered string, indexation bool) {
	f.t.Helper()
	a := ledger.Account{ID: id, Name: "Customer " + id, Type: ledger.AccountType(typ), Status: ledger.Active, Country: "NL",
		CreditLimit: ledger.DefaultCreditLimit, PaymentTermsDays: 14, Indexation: indexation, RegisteredAt: at(registered),
		CreatedAt: at(registered), CreatedBy: "test"}
	if _, _, err := f.store.CreateAccount(f.ctx, a); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) topUp(account, id, amount, received, now string) (billing.LotView, error) {
	f.t.Helper()
	t, err := ledger.NewTopUp{ID: id, Amount: amount, ReceivedAt: received, Method: "card"}.Validate(at(now))
	if err != nil {
		f.t.Fatal(err)
	}
	v, _, err := topUp(f.ctx, f.store, account, t, "test", at(now))
	return v, err
}

func (f *fixture) mustTopUp(account, id, amount, received, now string) billing.LotView {
	f.t.Helper()
	v, err := f.topUp(account, id, amount, received, now)
	if err != nil {
		f.t.Fatalf("top-up %s: %v", id, err)
	}
	return v
}

// sms charges one NL SMS event of parts parts (0.075 EUR each) that happened at occurred,
// committed at now; it returns the outcome.
func (f *fixture) sms(account string, parts int, occurred, now string) ledger.Outcome {
	f.t.Helper()
	f.seq++
	body := fmt.Sprintf(`{"id":"ev-%d","account":%q,"channel":"sms","destination":"+31612345678","quantity":%d,"occurred_at":%q}`,
		f.seq, account, parts, occurred)
	p := ledger.Prepare(ledger.Delivery{Subject: "usage.sms." + account, Data: []byte(body)}, f.book, f.tariffs)
	plan, err := f.store.ChargeBatch(f.ctx, []ledger.Prepared{p}, at(now))
	if err != nil {
		f.t.Fatal(err)
	}
	return plan.Outcomes[0]
}

// chargeback books a chargeback through the use case at now, as the API does.
func (f *fixture) chargeback(account string, n ledger.NewChargeback, now time.Time) (billing.ChargebackView, bool, error) {
	return useCasesAt(f.store, now).Chargeback(f.ctx, account, n, "test")
}

func (f *fixture) runDue(now string) int {
	f.t.Helper()
	n, err := runDue(f.ctx, f.store, at(now))
	if err != nil {
		f.t.Fatalf("run due at %s: %v", now, err)
	}
	return n
}

func (f *fixture) prepaid(account string) billing.PrepaidView {
	f.t.Helper()
	v, err := f.store.Prepaid(f.ctx, account)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// want checks an account's usable, pending and shortfall, in the database and in the credit
// book that authorisation reads.
func (f *fixture) want(account, usable, pending, shortfall string) {
	f.t.Helper()
	v := f.prepaid(account)
	if v.Usable != eur(usable) || v.Pending != eur(pending) || v.Shortfall != eur(shortfall) {
		f.t.Errorf("%s: usable %s pending %s shortfall %s; want %s, %s, %s", account, v.Usable, v.Pending, v.Shortfall, usable, pending, shortfall)
	}
	c, _ := f.book.Get(account)
	if c.Usable != v.Usable || c.Pending != v.Pending || c.Shortfall != v.Shortfall {
		f.t.Errorf("%s: the credit book says usable %s pending %s shortfall %s; the database %s, %s, %s", account,
			c.Usable, c.Pending, c.Shortfall, v.Usable, v.Pending, v.Shortfall)
	}
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		f.t.Errorf("invariants: %v", err)
	}
}

func (f *fixture) status(account string) (ledger.Status, string) {
	f.t.Helper()
	v, err := f.store.Account(f.ctx, account)
	if err != nil {
		f.t.Fatal(err)
	}
	if c, _ := f.book.Get(account); c.Status != v.Status {
		f.t.Errorf("%s: the credit book says %s, the database %s", account, c.Status, v.Status)
	}
	return v.Status, v.ClosedReason
}

type notice struct {
	Subject string
	Body    map[string]any
}

// notices returns the outgoing events of subject for account, in order.
func (f *fixture) notices(subject, account string) []notice {
	f.t.Helper()
	msgs, err := f.store.PendingOutbox(f.ctx, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []notice
	for _, m := range msgs {
		var body map[string]any
		if err := json.Unmarshal(m.Payload, &body); err != nil {
			f.t.Fatal(err)
		}
		if (subject == "" || m.Subject == subject) && body["account"] == account {
			out = append(out, notice{m.Subject, body})
		}
	}
	return out
}

func (f *fixture) balance(ledgerAccount string) money.Micros {
	f.t.Helper()
	b, err := f.store.Balance(f.ctx, ledgerAccount)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// R9, T&C 3.13: a top-up is pending on the day it is received — traffic of that day is not
// paid from it — and usable from 00:00 Amsterdam the next day, here across the night the clocks
// go forward; the shortfall of that day is cleared first.
func TestTopUpUsableNextDay(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-03-01T09:00:00Z")
	lot := f.mustTopUp("pre", "t1", "10.00", "2026-03-28T12:00:00Z", "2026-03-28T12:00:00Z")
	if lot.State != ledger.LotPending || !lot.UsableFrom.Equal(at("2026-03-28T23:00:00Z")) || !lot.ExpiresAt.Equal(at("2027-03-27T23:00:00Z")) {
		t.Fatalf("lot %+v; want pending, usable from 2026-03-28T23:00Z, expiring 2027-03-27T23:00Z", lot)
	}
	f.want("pre", "0", "10", "0")
	if f.sms("pre", 10, "2026-03-28T13:00:00Z", "2026-03-28T13:00:00Z") != ledger.OutcomeCharged {
		t.Fatal("same-day traffic not charged")
	}
	f.want("pre", "0", "10", "0.75") // charged all the same (T&C 3.12): a shortfall
	f.runDue("2026-03-28T22:59:59Z")
	f.want("pre", "0", "10", "0.75")
	if n := f.notices(ledger.SubjectPrepaidUsable, "pre"); len(n) != 0 {
		t.Fatalf("usable notice before 00:00 Amsterdam: %v", n)
	}
	f.runDue("2026-03-28T23:00:00Z")
	f.want("pre", "9.25", "0", "0") // the shortfall is paid first
	n := f.notices(ledger.SubjectPrepaidUsable, "pre")
	if len(n) != 1 || n[0].Body["topup_id"] != "t1" || n[0].Body["amount"] != "10.000000" || n[0].Body["at"] != "2026-03-28T23:00:00Z" {
		t.Fatalf("usable notices %v; want one for t1, 10.00, at 2026-03-28T23:00Z", n)
	}
	f.sms("pre", 100, "2026-03-29T09:00:00Z", "2026-03-29T09:00:00Z") // 7.50
	f.want("pre", "1.75", "0", "0")
	if b := f.balance(ledger.LotLedgerAccount("pre", "t1")); b != -eur("1.75") {
		t.Errorf("the lot's ledger account holds %s, want -1.75", b)
	}
}

// R9: at 00:00 Amsterdam on the expiry date what is left is forfeited; a second before it the
// lot still pays. Traffic of the expiry instant is not paid from it, even before the clock ran.
func TestExpiryAtMidnight(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-05-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-05-04T10:00:00Z", "2026-05-04T10:00:00Z")
	f.runDue("2027-05-03T21:59:59Z")
	f.want("pre", "10", "0", "0")
	f.sms("pre", 10, "2027-05-03T21:59:59Z", "2027-05-03T21:59:59Z") // 0.75 from the lot
	f.want("pre", "9.25", "0", "0")
	f.sms("pre", 2, "2027-05-03T22:00:00Z", "2027-05-03T22:00:00Z") // the expiry instant, before the clock ran: 0.15 short
	f.want("pre", "9.25", "0", "0.15")
	f.runDue("2027-05-03T22:00:00Z")
	f.want("pre", "0", "0", "0.15")
	lots := f.prepaid("pre").Lots
	if len(lots) != 1 || lots[0].State != ledger.LotExpired || lots[0].Expired != eur("9.25") || lots[0].Remaining != 0 {
		t.Fatalf("lot after expiry %+v; want expired with 9.25 forfeited", lots)
	}
	if b := f.balance(ledger.RevenuePrepaidExpired); b != -eur("9.25") {
		t.Errorf("expired prepaid revenue %s, want -9.25", b)
	}
	n := f.notices(ledger.SubjectPrepaidExpired, "pre")
	if len(n) != 1 || n[0].Body["amount"] != "9.250000" || n[0].Body["at"] != "2027-05-03T22:00:00Z" {
		t.Errorf("expired notices %v; want one of 9.25 at 2027-05-03T22:00Z", n)
	}
}

// R9: 29 February + 12 months = 28 February.
func TestLeapDayLotExpiry(t *testing.T) {
	f := newFixture(t)
	f.account("leap", "prepaid", "2028-02-01T09:00:00Z")
	lot := f.mustTopUp("leap", "t1", "5.00", "2028-02-29T12:00:00Z", "2028-02-29T12:00:00Z")
	if !lot.ExpiresAt.Equal(at("2029-02-27T23:00:00Z")) {
		t.Fatalf("expires %s, want 2029-02-28 00:00 Amsterdam", lot.ExpiresAt)
	}
	f.runDue("2029-02-27T22:59:59Z")
	f.want("leap", "5", "0", "0")
	f.runDue("2029-02-27T23:00:00Z")
	f.want("leap", "0", "0", "0")
}

// R9: one event draws from several lots, the one that expires first first; each lot drawn is
// an entry of its own.
func TestDrawAcrossLots(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "second", "5.00", "2026-01-11T10:00:00Z", "2026-01-11T10:00:00Z")
	f.mustTopUp("pre", "first", "1.00", "2026-01-10T10:00:00Z", "2026-01-11T10:00:00Z")
	f.runDue("2026-01-12T10:00:00Z")
	f.sms("pre", 20, "2026-01-12T10:00:00Z", "2026-01-12T10:00:00Z") // 1.50: 1.00 from first, 0.50 from second
	f.want("pre", "4.50", "0", "0")
	if a, b := f.balance(ledger.LotLedgerAccount("pre", "first")), f.balance(ledger.LotLedgerAccount("pre", "second")); a != 0 || b != -eur("4.50") {
		t.Errorf("lots hold %s and %s, want 0 and -4.50", a, b)
	}
	entries, err := f.store.Entries(f.ctx, "pre", at("2026-01-12T00:00:00Z"), at("2026-01-13T00:00:00Z"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var draws int
	for _, e := range entries {
		if e.Kind == ledger.KindUsage {
			draws++
		}
	}
	if draws != 2 {
		t.Errorf("usage entries on the account: %d, want 2 (one per lot drawn): %+v", draws, entries)
	}
}

// R9: usage without usable balance is charged; the account may not send until a later top-up,
// once usable, has cleared the shortfall.
func TestShortfallClearedByLaterTopUp(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.sms("pre", 20, "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z")
	f.want("pre", "0", "0", "1.50")
	if d := ledger.Authorize(f.bookCredit("pre"), true, 0); d.Allowed || d.Reason != ledger.ReasonInsufficientBalance {
		t.Errorf("with a shortfall: %+v, want insufficient_balance", d)
	}
	f.mustTopUp("pre", "t1", "10.00", "2026-01-05T12:00:00Z", "2026-01-05T12:00:00Z")
	f.want("pre", "0", "10", "1.50")
	if d := ledger.Authorize(f.bookCredit("pre"), true, 0); d.Allowed {
		t.Errorf("top-up still pending: %+v, want refused", d)
	}
	f.runDue("2026-01-06T08:00:00Z")
	f.want("pre", "8.50", "0", "0")
	if d := ledger.Authorize(f.bookCredit("pre"), true, eur("8.50")); !d.Allowed {
		t.Errorf("shortfall cleared, 8.50 usable: %+v, want allowed", d)
	}
}

func (f *fixture) bookCredit(account string) ledger.Credit {
	c, ok := f.book.Get(account)
	if !ok {
		f.t.Fatalf("%s is not in the credit book", account)
	}
	return c
}

// R10, T&C 3.14: a chargeback is set off against the reversed lot's remainder, then the
// other lots by earliest expiry; the account stays open while balance remains.
func TestChargebackWithBalanceLeft(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "card", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.mustTopUp("pre", "bank", "20.00", "2026-01-20T10:00:00Z", "2026-01-20T10:00:00Z")
	f.runDue("2026-01-21T00:00:00Z")
	f.sms("pre", 100, "2026-01-15T10:00:00Z", "2026-01-15T10:00:00Z") // 7.50 from card
	f.want("pre", "22.50", "0", "0")
	v, created, err := f.chargeback("pre", ledger.NewChargeback{ID: "cb1", TopUpID: "card", Amount: "10.00"}, at("2026-02-01T10:00:00Z"))
	if err != nil || !created {
		t.Fatal(err, created)
	}
	if v.SetOff != eur("10") || v.Owed != 0 || v.Closed {
		t.Errorf("chargeback %+v; want 10.00 set off, nothing owed, account open", v)
	}
	f.want("pre", "12.50", "0", "0") // 2.50 from the card lot, 7.50 from the bank lot
	if s, _ := f.status("pre"); s != ledger.Active {
		t.Errorf("status %s, want active", s)
	}
	if b := f.balance(ledger.CashAccount("card")); b != eur("20") { // both top-ups came by card
		t.Errorf("card receipts %s, want 20.00 after the reversal of 10.00", b)
	}
	// Idempotent on its id; the same id with another amount is a conflict.
	if again, created, err := f.chargeback("pre", ledger.NewChargeback{ID: "cb1", TopUpID: "card", Amount: "10.00"}, at("2026-02-01T11:00:00Z")); err != nil || created || again.SetOff != v.SetOff {
		t.Errorf("the same chargeback again: %+v created=%v %v", again, created, err)
	}
	if _, _, err := f.chargeback("pre", ledger.NewChargeback{ID: "cb1", TopUpID: "card", Amount: "9.00"}, at("2026-02-01T11:00:00Z")); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("same id, other amount: %v, want conflict", err)
	}
	// A top-up cannot be reversed beyond its amount.
	if _, _, err := f.chargeback("pre", ledger.NewChargeback{ID: "cb2", TopUpID: "card", Amount: "0.01"}, at("2026-02-01T11:00:00Z")); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("reversing more than the top-up: %v, want conflict", err)
	}
}

// R10, T&C 3.14: what the balance cannot cover is owed, and with no balance left the account
// is closed (reason chargeback): its traffic is parked, it takes no top-ups.
func TestChargebackWithoutBalance(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "card", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.runDue("2026-01-11T00:00:00Z")
	f.sms("pre", 100, "2026-01-15T10:00:00Z", "2026-01-15T10:00:00Z") // 7.50
	v, _, err := f.chargeback("pre", ledger.NewChargeback{ID: "cb1", TopUpID: "card", Amount: "10.00", At: "2026-02-01T09:00:00Z"}, at("2026-02-01T10:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if v.SetOff != eur("2.50") || v.Owed != eur("7.50") || !v.Closed {
		t.Errorf("chargeback %+v; want 2.50 set off, 7.50 owed, account closed", v)
	}
	f.want("pre", "0", "0", "0")
	if b := f.balance(ledger.CustomerChargebacks("pre")); b != eur("7.50") {
		t.Errorf("owed after the chargeback %s, want 7.50", b)
	}
	if s, reason := f.status("pre"); s != ledger.Closed || reason != ledger.ClosedChargeback {
		t.Errorf("status %s (%s), want closed (chargeback)", s, reason)
	}
	n := f.notices(ledger.SubjectAccountClosed, "pre")
	if len(n) != 1 || n[0].Body["reason"] != ledger.ClosedChargeback || n[0].Body["at"] != "2026-02-01T09:00:00Z" {
		t.Errorf("closed notices %v; want one, reason chargeback, at the chargeback's time", n)
	}
	if _, err := f.topUp("pre", "t2", "5.00", "2026-02-02T10:00:00Z", "2026-02-02T10:00:00Z"); ledger.ErrorCode(err) != ledger.CodeConflict || !containsClause(err, "T&C 3.15") {
		t.Errorf("top-up of a closed account: %v, want a conflict citing T&C 3.15", err)
	}
	if o := f.sms("pre", 1, "2026-02-02T10:00:00Z", "2026-02-02T10:00:00Z"); o != ledger.OutcomeRejected {
		t.Errorf("traffic of a closed account: %s, want parked", o)
	}
}

func containsClause(err error, clause string) bool {
	e, ok := err.(*ledger.Error)
	return ok && e.Clause == clause
}

// T&C 3.15: no top-up within 3 months after registration closes the account at 00:00
// Amsterdam after the last day; a top-up on that last day prevents it.
func TestClosureAfterRegistration(t *testing.T) {
	f := newFixture(t)
	f.account("idle", "prepaid", "2026-01-15T09:00:00Z")
	f.account("late", "prepaid", "2026-01-15T09:00:00Z")
	f.account("post", "postpaid", "2026-01-15T09:00:00Z")
	// 21:30 UTC on 15 April is 23:30 in Amsterdam: still the last allowed day.
	f.mustTopUp("late", "t1", "1.00", "2026-04-15T21:30:00Z", "2026-04-15T21:30:00Z")
	f.runDue("2026-04-15T21:59:59Z")
	if s, _ := f.status("idle"); s != ledger.Active {
		t.Fatalf("a second before the deadline: %s, want active", s)
	}
	f.runDue("2026-04-15T22:00:00Z")
	if s, reason := f.status("idle"); s != ledger.Closed || reason != ledger.ClosedNoTopUpAfterRegistration {
		t.Errorf("idle account: %s (%s), want closed (%s)", s, reason, ledger.ClosedNoTopUpAfterRegistration)
	}
	if s, _ := f.status("late"); s != ledger.Active {
		t.Errorf("account topped up on the last day: %s, want active", s)
	}
	if s, _ := f.status("post"); s != ledger.Active {
		t.Errorf("postpaid account: %s, want active (T&C 3.15 is about prepaid accounts)", s)
	}
	if n := f.notices(ledger.SubjectAccountClosed, "idle"); len(n) != 1 || n[0].Body["at"] != "2026-04-15T22:00:00Z" {
		t.Errorf("closed notices %v; want one at 2026-04-15T22:00Z", n)
	}
}

// T&C 3.15: 3 months after the balance reached zero — by use or by expiry — the account is
// closed; a top-up in between keeps it open. The state survives a restart.
func TestClosureAfterDepletion(t *testing.T) {
	f := newFixture(t)
	f.account("used", "prepaid", "2026-01-01T09:00:00Z")
	f.account("expired", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("used", "u1", "1.50", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.mustTopUp("expired", "e1", "1.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.runDue("2026-01-11T00:00:00Z")
	f.sms("used", 20, "2026-02-01T10:00:00Z", "2026-02-01T10:00:00Z") // 1.50: all of it
	f.want("used", "0", "0", "0")
	f.reopen() // the zero date is kept
	f.runDue("2026-05-01T21:59:59Z")
	if s, _ := f.status("used"); s != ledger.Active {
		t.Fatalf("before the deadline: %s", s)
	}
	f.runDue("2026-05-01T22:00:00Z") // 00:00 Amsterdam on 2 May
	if s, reason := f.status("used"); s != ledger.Closed || reason != ledger.ClosedNoTopUpAfterDepletion {
		t.Errorf("used up on 1 February: %s (%s), want closed (%s) on 2 May", s, reason, ledger.ClosedNoTopUpAfterDepletion)
	}
	// The other lot expires on 10 January 2027 (00:00 Amsterdam = 2027-01-09T23:00Z): zero from
	// then, closed at 00:00 Amsterdam on 11 April 2027 (summer time: 2027-04-10T22:00Z).
	f.runDue("2027-04-10T21:59:59Z")
	if s, _ := f.status("expired"); s != ledger.Active {
		t.Fatalf("before the deadline: %s", s)
	}
	f.runDue("2027-04-10T22:00:00Z")
	if s, reason := f.status("expired"); s != ledger.Closed || reason != ledger.ClosedNoTopUpAfterDepletion {
		t.Errorf("expired on 10 January: %s (%s), want closed", s, reason)
	}
}

// After downtime the clock catches up in time order: usable, expired, closed, each at its own
// instant.
func TestCatchUpInTimeOrder(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.reopen()
	if n := f.runDue("2028-01-01T00:00:00Z"); n < 3 {
		t.Errorf("%d items ran, want at least 3", n)
	}
	got := f.notices("", "pre")
	want := []struct{ subject, at string }{
		{ledger.SubjectPrepaidUsable, "2026-01-10T23:00:00Z"},
		{ledger.SubjectPrepaidExpired, "2027-01-09T23:00:00Z"},
		{ledger.SubjectAccountClosed, "2027-04-10T22:00:00Z"},
	}
	if len(got) != len(want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].Subject != w.subject || got[i].Body["at"] != w.at {
			t.Errorf("notice %d: %s at %v, want %s at %s", i, got[i].Subject, got[i].Body["at"], w.subject, w.at)
		}
	}
	if f.runDue("2028-01-01T00:00:00Z") != 0 {
		t.Error("running again did something")
	}
}

// CONTRACT 3.2: top-ups are idempotent on their id; a prepaid account only.
func TestTopUpIdempotentAndRefused(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.account("post", "postpaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T11:00:00Z")
	f.want("pre", "0", "10", "0")
	if _, err := f.topUp("pre", "t1", "11.00", "2026-01-10T10:00:00Z", "2026-01-10T11:00:00Z"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("same id, other amount: %v, want conflict", err)
	}
	if _, err := f.topUp("post", "t2", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T11:00:00Z"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("top-up of a postpaid account: %v, want conflict", err)
	}
	if _, err := f.topUp("nobody", "t3", "10.00", "2026-01-10T10:00:00Z", "2026-01-10T11:00:00Z"); ledger.ErrorCode(err) != ledger.CodeNotFound {
		t.Errorf("top-up of an unknown account: %v, want not found", err)
	}
	// A top-up received days ago is usable at once.
	f.mustTopUp("pre", "t4", "2.00", "2026-01-08T10:00:00Z", "2026-01-10T11:00:00Z")
	f.want("pre", "2", "10", "0")
}

// R9: traffic of before a lot's expiry that is charged after the expiry ran (ingestion behind,
// a restart's backlog) is paid from what the expiry forfeited, not made a shortfall — also
// after a restart.
func TestLateTrafficReclaimsForfeitedCredit(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-05-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-05-04T10:00:00Z", "2026-05-04T10:00:00Z")
	f.runDue("2027-05-03T22:00:00Z") // expired: 10.00 forfeited
	f.want("pre", "0", "0", "0")
	f.reopen()
	f.sms("pre", 10, "2027-05-03T21:59:59Z", "2027-05-03T22:05:00Z") // 0.75, a second before the expiry
	f.want("pre", "0", "0", "0")
	lots := f.prepaid("pre").Lots
	if lots[0].Expired != eur("9.25") || lots[0].State != ledger.LotExpired {
		t.Errorf("lot %+v; want expired with 9.25 forfeited after 0.75 taken back", lots[0])
	}
	if b := f.balance(ledger.RevenuePrepaidExpired); b != -eur("9.25") {
		t.Errorf("expired prepaid revenue %s, want -9.25", b)
	}
	// Traffic of after the expiry is not paid from it.
	f.sms("pre", 2, "2027-05-03T22:00:00Z", "2027-05-03T22:05:00Z")
	f.want("pre", "0", "0", "0.15")
	// After the reclaim window the lot leaves memory: nothing more is taken back.
	f.runDue("2027-06-04T00:00:00Z")
	f.sms("pre", 1, "2027-05-03T21:00:00Z", "2027-06-04T00:00:00Z")
	f.want("pre", "0", "0", "0.225")
}

// R9: traffic dated after now is paid from what is usable now, not from a lot that becomes
// usable later.
func TestFutureDatedTrafficDoesNotSpendPendingCredit(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-03-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "10.00", "2026-03-10T10:00:00Z", "2026-03-10T10:00:00Z")
	f.sms("pre", 10, "2026-03-12T10:00:00Z", "2026-03-10T12:00:00Z")
	f.want("pre", "0", "10", "0.75")
}

// CONTRACT 3.2: a top-up sent again without received_at (which defaults to now) is the same
// top-up.
func TestTopUpRetryWithoutReceivedAt(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-03-01T09:00:00Z")
	for _, now := range []string{"2026-03-10T10:00:00Z", "2026-03-10T10:00:05Z"} {
		top, err := ledger.NewTopUp{ID: "t1", Amount: "10.00"}.Validate(at(now))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := topUp(f.ctx, f.store, "pre", top, "test", at(now)); err != nil {
			t.Fatalf("top-up at %s: %v", now, err)
		}
	}
	f.want("pre", "0", "10", "0")
}

// T&C 3.15: money received within the 3 months counts even when the ledger hears of it after
// the closure ran: the closure is undone (billing.account.reopened); received after it, refused.
func TestTopUpReceivedBeforeClosureReopens(t *testing.T) {
	f := newFixture(t)
	f.account("late", "prepaid", "2026-01-15T09:00:00Z")
	f.account("later", "prepaid", "2026-01-15T09:00:00Z")
	f.runDue("2026-04-16T08:00:00Z") // closed at 2026-04-15T22:00Z
	if s, _ := f.status("late"); s != ledger.Closed {
		t.Fatalf("status %s, want closed", s)
	}
	// Received on the last day (15 April, 14:00 Amsterdam), booked the next morning.
	f.mustTopUp("late", "t1", "5.00", "2026-04-15T12:00:00Z", "2026-04-16T08:00:00Z")
	if s, reason := f.status("late"); s != ledger.Active || reason != "" {
		t.Errorf("after a top-up received in time: %s (%s), want active", s, reason)
	}
	f.want("late", "5", "0", "0") // received on the 15th: usable since 00:00 on the 16th
	n := f.notices(ledger.SubjectAccountReopened, "late")
	if len(n) != 1 || n[0].Body["topup_id"] != "t1" || n[0].Body["reason"] != ledger.ReopenedTopUpBeforeClosure {
		t.Errorf("reopened notices %v", n)
	}
	if _, err := f.topUp("later", "t2", "5.00", "2026-04-16T07:00:00Z", "2026-04-16T08:00:00Z"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("top-up received after the closure: %v, want a conflict (T&C 3.15)", err)
	}
	f.reopen()
	if s, _ := f.status("late"); s != ledger.Active {
		t.Errorf("late after a restart: %s, want active", s)
	}
}

// T&C 3.15: a top-up received on the last day and booked after the deadline, before the clock
// ran the closure: the closure never happens.
func TestTopUpReceivedBeforeClosureBookedBeforeItRan(t *testing.T) {
	f := newFixture(t)
	f.account("quiet", "prepaid", "2026-01-15T09:00:00Z")
	f.mustTopUp("quiet", "t3", "5.00", "2026-04-15T12:00:00Z", "2026-04-16T08:00:00Z")
	f.runDue("2026-04-17T00:00:00Z")
	if s, _ := f.status("quiet"); s != ledger.Active || len(f.notices(ledger.SubjectAccountClosed, "quiet")) != 0 {
		t.Errorf("quiet: %s, %d closed notices; want active, none", s, len(f.notices(ledger.SubjectAccountClosed, "quiet")))
	}
}

// CONTRACT 3.2: concurrent chargebacks with one id and different terms: one is booked, the
// other is a conflict (or sees the same booking), never two different answers of success.
func TestConcurrentChargebacksOneID(t *testing.T) {
	f := newFixture(t)
	f.account("pre", "prepaid", "2026-01-01T09:00:00Z")
	f.mustTopUp("pre", "t1", "50.00", "2026-01-10T10:00:00Z", "2026-01-10T10:00:00Z")
	for round := 0; round < 20; round++ {
		id := fmt.Sprintf("cb%d", round)
		errs := make(chan error, 2)
		for _, amount := range []string{"1.00", "2.00"} {
			go func() {
				_, _, err := f.chargeback("pre", ledger.NewChargeback{ID: id, TopUpID: "t1", Amount: amount}, at("2026-02-01T10:00:00Z"))
				errs <- err
			}()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) {
			t.Fatalf("round %d: %v and %v; want exactly one booked and one conflict", round, e1, e2)
		}
		if err := errors.Join(e1, e2); ledger.ErrorCode(err) != ledger.CodeConflict {
			t.Fatalf("round %d: %v, want a conflict", round, err)
		}
		if round == 10 {
			break // the top-up is not reversed beyond its amount
		}
	}
}
