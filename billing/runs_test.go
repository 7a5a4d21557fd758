package billing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/sql"
)

// smsAt charges one one-part SMS to a Dutch mobile that happened at occurred (a back-filled
// event when that is long past).
func (b *books) smsAt(account, id string, occurred time.Time) {
	b.t.Helper()
	if plan := b.sendAt(account, id, occurred); len(plan.Charges) != 1 {
		b.t.Fatalf("charge %s: %+v", id, plan)
	}
}

// sendAt offers one one-part SMS that happened at occurred, and returns what became of it.
func (b *books) sendAt(account, id string, occurred time.Time) ledger.BatchPlan {
	b.t.Helper()
	pb, err := b.uses.Charging.Prepare([]ledger.Delivery{{Subject: "usage.sms." + account, Data: fmt.Appendf(nil,
		`{"id":%q,"account":%q,"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":%q}`,
		id, account, occurred.Format(time.RFC3339))}})
	if err != nil {
		b.t.Fatal(err)
	}
	plan, err := b.uses.Charging.Commit(b.ctx, pb)
	if err != nil {
		b.t.Fatalf("charge %s: %v", id, err)
	}
	return plan
}

// R5, R6: a period invoiced late — March's usage back-filled and invoiced in December — is not
// back-dated: its invoice is dated the day of the run and due 14 days after it, it is not
// overdue at birth, and the months the clock then catches up (April to November) issue nothing,
// for there is nothing to bill in them; interest and collection costs start from the real due
// date only.
func TestLateIssuance_no_debt_out_of_nothing(t *testing.T) {
	b := newBooks(t, "2026-12-07T09:00:00Z")
	b.open("acme", "postpaid")
	b.open("beta", "postpaid")
	b.smsAt("acme", "late-1", at("2026-03-10T08:00:00Z"))
	b.smsAt("beta", "late-2", at("2026-03-11T08:00:00Z"))

	runs, ranBefore, err := b.uses.RunBilling(b.ctx, invoices.Period{Year: 2026, Month: time.March}, "finance")
	if err != nil || ranBefore || len(runs) != 1 || len(runs[0].Invoices) != 2 {
		t.Fatalf("March's run: %+v ran before %v, %v; want one run of 2 invoices", runs, ranBefore, err)
	}
	if !runs[0].RanAt.Equal(b.clock.Now()) {
		t.Errorf("ran at %s, want now %s: a run carries the instant it really ran", runs[0].RanAt, b.clock.Now())
	}
	check := func(when string, wantStatus string) {
		t.Helper()
		for _, id := range runs[0].Invoices {
			v, err := b.uses.Receivables.Invoice(b.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if v.IssueDate.String() != "2026-12-07" || v.DueDate.String() != "2026-12-21" {
				t.Errorf("%s: %s issued %s due %s; want issued on the day of the run, 2026-12-07, due 2026-12-21 (T&C 3.7)",
					when, id, v.IssueDate, v.DueDate)
			}
			if v.Status != wantStatus {
				t.Errorf("%s: %s is %q (overdue since %q), want %q", when, id, v.Status, v.OverdueSince, wantStatus)
			}
			if len(v.Lines) != 1 || v.Lines[0].Kind != "usage" {
				t.Errorf("%s: %s has lines %+v; want the one usage line, no interest or costs", when, id, v.Lines)
			}
		}
	}
	check("at issue", "open")

	// The clock's next look catches up April to November: each runs, none issues anything.
	if _, err := b.uses.RunDue(b.ctx, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for m := time.April; m <= time.November; m++ {
		run, ok, err := b.uses.Runs.BillingRunOf(b.ctx, invoices.Period{Year: 2026, Month: m})
		if err != nil || !ok || len(run.Invoices) != 0 {
			t.Errorf("period 2026-%02d: %+v ran %v, %v; want a run that issued nothing", int(m), run, ok, err)
		}
	}
	all, err := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{}, "", 100)
	if err != nil || len(all) != 2 {
		t.Fatalf("%d invoices, %v; want the 2 of March and nothing else", len(all), err)
	}

	// On the due date it is still open; the day after, overdue (R6) — and only then.
	if err := b.uses.SetClock(b.ctx, at("2026-12-21T20:00:00Z")); err != nil {
		t.Fatal(err)
	}
	check("on the due date", "open")
	if err := b.uses.SetClock(b.ctx, at("2026-12-22T09:00:00Z")); err != nil {
		t.Fatal(err)
	}
	v, err := b.uses.Receivables.Invoice(b.ctx, runs[0].Invoices[0])
	if err != nil || v.Status != "overdue" || v.OverdueSince != "2026-12-22" {
		t.Fatalf("the day after the due date: %+v, %v; want overdue since 2026-12-22", v, err)
	}
}

// R5: a period run while the ledger watches its clock — the test clock moved past the 1st of
// the month — is dated the period's issue date, as if run at 00:00 that day.
func TestIssuance_on_time_when_the_clock_passes(t *testing.T) {
	b := newBooks(t, "2026-03-10T09:00:00Z")
	invoice := b.marchInvoice() // the clock moves to 1 April 08:00 and the run is asked for
	v, err := b.uses.Receivables.Invoice(b.ctx, invoice)
	if err != nil || v.IssueDate.String() != "2026-04-01" || v.DueDate.String() != "2026-04-15" {
		t.Fatalf("%+v, %v; want issued 2026-04-01, due 2026-04-15", v, err)
	}
	// The clock moved three months at once: May's and June's runs happened as it passed them.
	b.smsAt("acme", "may-1", at("2026-05-05T08:00:00Z"))
	if err := b.uses.SetClock(b.ctx, at("2026-07-15T09:00:00Z")); err != nil {
		t.Fatal(err)
	}
	for _, m := range []time.Month{time.May, time.June} {
		run, ok, err := b.uses.Runs.BillingRunOf(b.ctx, invoices.Period{Year: 2026, Month: m})
		want := invoices.Period{Year: 2026, Month: m}.End()
		if err != nil || !ok || !run.RanAt.Equal(want) {
			t.Errorf("2026-%02d: %+v %v %v; want run at %s", int(m), run, ok, err, want)
		}
	}
}

// R13 with R1 (T&C 10.7): traffic that happened before a termination and arrives after it is
// still owed — charged, and invoiced at once, due on issue, as the rest of the final usage;
// traffic from the termination on is refused. The same cut-off for a prepaid account's closure
// (R10, R11): traffic of before it is charged against the lots of its time, and what they cannot
// cover is a shortfall the customer owes.
func TestTermination_cut_off_by_event_time(t *testing.T) {
	b := newBooks(t, "2026-03-10T09:00:00Z")
	b.open("acme", "postpaid")
	b.smsAt("acme", "before-1", at("2026-03-10T08:00:00Z"))
	terminated := at("2026-03-10T09:00:00Z")
	if err := b.uses.Terminate(b.ctx, "acme", terminated, "test"); err != nil {
		t.Fatal(err)
	}
	final, err := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{Account: "acme"}, "", 100)
	if err != nil || len(final) != 1 {
		t.Fatalf("final invoice: %+v, %v", final, err)
	}
	b.clock.Set(at("2026-03-12T10:00:00Z"))

	// Late, but of before the termination: charged, and invoiced at once, due on issue.
	if plan := b.sendAt("acme", "before-2", terminated.Add(-time.Minute)); len(plan.Charges) != 1 {
		t.Fatalf("traffic of a minute before the termination: %+v; want charged (R13, T&C 10.7)", plan.Parked)
	}
	all, err := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{Account: "acme"}, "", 100)
	if err != nil || len(all) != 2 {
		t.Fatalf("%d invoices, %v; want the final one and one for the late usage", len(all), err)
	}
	late := all[1]
	if late.IssueDate.String() != "2026-03-12" || late.DueDate.String() != "2026-03-12" || late.Total.StringFixed(2) != "0.10" {
		t.Errorf("late usage invoice issued %s due %s total %s; want issued and due 2026-03-12 (due on issue), 0.10 (0.08 + 21 %% VAT)",
			late.IssueDate, late.DueDate, late.Total)
	}
	if v, err := b.uses.Accounts.Account(b.ctx, "acme"); err != nil || v.Unbilled != 0 {
		t.Errorf("unbilled %v, %v; want nothing left unbilled", v.Unbilled, err)
	}

	// From the termination on: refused, saying when it was terminated.
	plan := b.sendAt("acme", "after-1", terminated)
	if len(plan.Charges) != 0 || len(plan.Parked) != 1 || plan.Parked[0].Reason != ledger.ReasonAccountClosed ||
		!strings.Contains(plan.Parked[0].Detail, "2026-03-10T09:00:00Z") {
		t.Fatalf("traffic at the termination instant: %+v; want parked account_closed naming the instant", plan.Parked)
	}

	// Prepaid: closed at its termination; traffic of before draws on its lots, then owes.
	b.open("pre", "prepaid")
	if _, _, err := b.uses.TopUp(b.ctx, "pre", ledger.NewTopUp{ID: "t1", Amount: "0.10", ReceivedAt: "2026-03-01T09:00:00Z", Method: "card"}, "test"); err != nil {
		t.Fatal(err)
	}
	closed := at("2026-03-12T09:00:00Z")
	if err := b.uses.Terminate(b.ctx, "pre", closed, "test"); err != nil {
		t.Fatal(err)
	}
	for i, occurred := range []time.Time{closed.Add(-2 * time.Hour), closed.Add(-time.Hour)} {
		if plan := b.sendAt("pre", fmt.Sprint("pre-before-", i), occurred); len(plan.Charges) != 1 {
			t.Fatalf("prepaid traffic of before its closure: %+v; want charged (R11)", plan.Parked)
		}
	}
	c, _ := b.uses.Charging.Accounts.Get("pre")
	if c.Usable != 0 || c.Shortfall.String() != "0.050000" {
		t.Errorf("prepaid after two late SMS: usable %s shortfall %s; want 0.10 used and 0.05 owed", c.Usable, c.Shortfall)
	}
	if plan := b.sendAt("pre", "pre-after", closed.Add(time.Second)); len(plan.Parked) != 1 || plan.Parked[0].Reason != ledger.ReasonAccountClosed {
		t.Fatalf("prepaid traffic after its closure: %+v; want parked account_closed", plan)
	}

	// A restart reads the instants back: a book made afresh from the database knows them.
	book := ledger.NewCreditBook()
	policy, _ := ledger.NewCreditPolicy([]string{"0.8"})
	if err := b.store.UseCredit(b.ctx, book, policy); err != nil {
		t.Fatal(err)
	}
	if state, _ := book.Lookup("acme"); state.Status != ledger.Closed || !state.ClosedAt.Equal(terminated) {
		t.Errorf("after a restart: %+v; want closed at %s", state, terminated)
	}
	if state, _ := book.Lookup("pre"); state.Status != ledger.Closed || !state.ClosedAt.Equal(closed) {
		t.Errorf("after a restart: %+v; want closed at %s", state, closed)
	}
}

// A test clock set for the first time may go back (ledgerd --test-clock starts at the wall
// clock's time): the ledger watches from where it was set, so the runs it then passes are on
// time, dated the 1st.
func TestIssuance_test_clock_first_set_back(t *testing.T) {
	b := newBooks(t, "2026-12-07T09:00:00Z")
	b.clock = clock.NewTest(at("2026-12-07T09:00:00Z"), false) // not yet set: may go back
	b.uses = billing.New(billing.StoresOf(b.store), b.clock, b.clock, b.uses.Charging.Accounts, b.uses.Charging.Tariffs())
	if err := b.uses.SetClock(b.ctx, at("2026-03-10T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	b.open("acme", "postpaid")
	b.smsAt("acme", "m-1", at("2026-03-10T08:00:00Z"))
	if err := b.uses.SetClock(b.ctx, at("2026-04-01T08:00:00Z")); err != nil {
		t.Fatal(err)
	}
	all, err := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{Account: "acme"}, "", 10)
	if err != nil || len(all) != 1 || all[0].IssueDate.String() != "2026-04-01" {
		t.Fatalf("%+v, %v; want March's invoice dated 2026-04-01", all, err)
	}
}

// A billing run tells who asks how far it has got: the invoices it will issue, then each issued.
func TestBillingRun_progress(t *testing.T) {
	b := newBooks(t, "2026-03-10T09:00:00Z")
	b.open("acme", "postpaid")
	b.open("beta", "postpaid")
	b.open("idle", "postpaid")
	b.sms("acme", 0, 1)
	b.sms("beta", 0, 1)
	b.clock.Set(at("2026-04-01T08:00:00Z"))
	var seen []string
	ctx := billing.WithProgress(b.ctx, func(p invoices.Period, issued, total int) {
		seen = append(seen, fmt.Sprintf("%s %d/%d", p, issued, total))
	})
	if _, _, err := b.uses.RunBilling(ctx, invoices.Period{Year: 2026, Month: time.March}, "finance"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, ", "); !strings.HasSuffix(got, "2026-03 0/2, 2026-03 1/2, 2026-03 2/2") {
		t.Errorf("progress %q, want March's two invoices counted (idle has nothing to invoice)", got)
	}
}

// The open parked events are counted by reason, and a replayed one no longer counts.
func TestParkedCounts(t *testing.T) {
	b := newBooks(t, "2026-03-10T09:00:00Z")
	b.sendAt("ghost", "p-1", at("2026-03-10T08:00:00Z"))
	b.sendAt("ghost", "p-2", at("2026-03-10T08:00:00Z"))
	counts, err := b.uses.Parked.ParkedCounts(b.ctx)
	if err != nil || counts[string(ledger.ReasonUnknownAccount)] != 2 || len(counts) != 1 {
		t.Fatalf("counts %v, %v; want 2 unknown_account", counts, err)
	}
	b.open("ghost", "postpaid")
	if _, err := b.uses.Charging.Replay(b.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if counts, err = b.uses.Parked.ParkedCounts(b.ctx); err != nil || len(counts) != 0 {
		t.Errorf("after the replay: %v, %v; want none open", counts, err)
	}
}

// R14: past the retention the pseudonyms go, walked a range of charges at a time (here 2), and
// those within it stay; a second walk finds nothing more.
func TestForgetPersonalData_in_ranges(t *testing.T) {
	defer func(r int64) { sql.ForgetRange = r }(sql.ForgetRange)
	sql.ForgetRange = 2
	b := newBooks(t, "2026-03-10T09:00:00Z")
	b.uses.Charging.Pseudonyms = ledger.NewPseudonyms([]byte("0123456789abcdef"), 6)
	b.uses.PersonalDataRetention = 24 * time.Hour
	b.open("acme", "postpaid")
	for i, occurred := range []string{"2026-03-01T08:00:00Z", "2026-03-10T08:00:00Z", "2026-03-02T08:00:00Z",
		"2026-03-03T08:00:00Z", "2026-03-10T07:00:00Z"} {
		b.smsAt("acme", fmt.Sprint("f-", i), at(occurred))
	}
	n, err := b.uses.ForgetPersonalData(b.ctx, b.clock.Now())
	if err != nil || n != 3 {
		t.Fatalf("forgot %d, %v; want the 3 older than a day", n, err)
	}
	held, _, err := b.uses.DataSubject(b.ctx, "+31612345678", "", 100)
	if err != nil || len(held) != 2 {
		t.Fatalf("%d records still held, %v; want the 2 of the last day", len(held), err)
	}
	if n, err := b.uses.ForgetPersonalData(b.ctx, b.clock.Now()); err != nil || n != 0 {
		t.Errorf("a second walk forgot %d, %v; want nothing", n, err)
	}
}
