package billing_test

import (
	"fmt"
	"testing"
	"time"

	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
)

// smsAt charges one one-part SMS to a Dutch mobile that happened at occurred (a back-filled
// event when that is long past).
func (b *books) smsAt(account, id string, occurred time.Time) {
	b.t.Helper()
	pb, err := b.uses.Charging.Prepare([]ledger.Delivery{{Subject: "usage.sms." + account, Data: fmt.Appendf(nil,
		`{"id":%q,"account":%q,"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":%q}`,
		id, account, occurred.Format(time.RFC3339))}})
	if err != nil {
		b.t.Fatal(err)
	}
	plan, err := b.uses.Charging.Commit(b.ctx, pb)
	if err != nil || len(plan.Charges) != 1 {
		b.t.Fatalf("charge %s: %+v, %v", id, plan, err)
	}
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
