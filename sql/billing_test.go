package sql_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

func newBillingFixture(t *testing.T) *fixture {
	t.Helper()
	f := openFixture(t, t.TempDir()+"/ledger.db")
	f.invoicing = true
	f.useInvoicing()
	t.Cleanup(f.close)
	return f
}

// marchInvoice opens postpaid acme (registered 1 March 2026) with 1,000 NL SMS on 10 March and
// runs March: invoice 75.00 + 15.75 VAT = 90.75, issued 1 April, due 15 April. It returns the
// invoice's number.
func (f *fixture) marchInvoice() string {
	f.t.Helper()
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.sms("acme", 1000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z")
	f.runDue("2026-04-01T00:00:00Z")
	return f.invoices("acme")[0].Number
}

func (f *fixture) invoices(account string) []billing.InvoiceView {
	f.t.Helper()
	list, err := f.store.Invoices(f.ctx, billing.InvoiceFilter{Account: account}, "", 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func (f *fixture) invoice(id string) billing.InvoiceView {
	f.t.Helper()
	v, err := f.store.Invoice(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) pay(account, id, amount, received, invoice, now string) billing.PaymentView {
	f.t.Helper()
	v, _, err := addPayment(f.ctx, f.store, account, billing.NewPayment{ID: id, Amount: eur(amount), ReceivedAt: at(received),
		Invoice: invoice, SEPA: true}, "test", at(now))
	if err != nil {
		f.t.Fatalf("payment %s: %v", id, err)
	}
	return v
}

// wantInvoice checks an invoice's amounts (EUR) and status.
func (f *fixture) wantInvoice(v billing.InvoiceView, net, vat, total, outstanding, status string) {
	f.t.Helper()
	if !v.Net.Equal(eur(net).Decimal()) || !v.Tax.Equal(eur(vat).Decimal()) || !v.Total.Equal(eur(total).Decimal()) ||
		v.Outstanding != eur(outstanding) || v.Status != status {
		f.t.Errorf("%s: net %s VAT %s total %s outstanding %s %s; want %s, %s, %s, %s %s", v.Number, v.Net, v.Tax, v.Total,
			v.Outstanding, v.Status, net, vat, total, outstanding, status)
	}
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		f.t.Errorf("invariants: %v", err)
	}
}

func lineOf(v billing.InvoiceView, kind string) []invoices.Line {
	var out []invoices.Line
	for _, l := range v.Lines {
		if l.Kind == kind {
			out = append(out, l)
		}
	}
	return out
}

// R5, T&C 3.2, 3.7: the month in Amsterdam time is invoiced at its end, due 14 days later, with
// Dutch VAT; a late event lands on the next invoice marked with its own period.
func TestBilling_R5_monthly_run_DST_edges_and_late_events(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.sms("acme", 1000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z")
	f.sms("acme", 2, "2026-03-31T21:59:59Z", "2026-03-31T21:59:59Z") // 23:59:59 CEST: March
	f.sms("acme", 2, "2026-03-31T22:30:00Z", "2026-03-31T22:30:00Z") // 00:30 on 1 April: April
	if n := len(f.invoices("acme")); n != 0 {
		t.Fatalf("%d invoices before the month ended", n)
	}
	f.runDue("2026-03-31T21:59:59Z")
	if n := len(f.invoices("acme")); n != 0 {
		t.Fatalf("%d invoices a second before the month ended", n)
	}
	f.runDue("2026-03-31T22:00:00Z") // 00:00 on 1 April in Amsterdam
	list := f.invoices("acme")
	if len(list) != 1 {
		t.Fatalf("%d invoices after March, want 1", len(list))
	}
	march := list[0]
	// 1,002 parts × 0.075 = 75.15; VAT 21 % = 15.7815 → 15.78; total 90.93
	f.wantInvoice(march, "75.15", "15.78", "90.93", "90.93", "open")
	if march.Number != "INV-2026-000001" || march.Period.String() != "2026-03" || march.IssueDate.String() != "2026-04-01" ||
		march.DueDate.String() != "2026-04-15" {
		t.Errorf("invoice %s period %s issued %s due %s", march.Number, march.Period, march.IssueDate, march.DueDate)
	}
	usage := lineOf(march, invoices.LineUsage)
	if len(usage) != 1 || !usage[0].Quantity.Equal(eur("1002").Decimal()) || usage[0].Channel != "sms" || usage[0].Country != "NL" ||
		!usage[0].UnitPrice.Equal(eur("0.075").Decimal()) {
		t.Errorf("usage lines %+v, want one of 1002 SMS NL at 0.075", usage)
	}
	if got := f.notices("billing.invoice.issued", "acme"); len(got) != 1 || got[0].Body["invoice_id"] != march.Number || got[0].Body["total"] != "90.93" {
		t.Errorf("issued notices %+v", got)
	}
	f.pay("acme", "pay-1", "90.93", "2026-04-10T10:00:00Z", march.Number, "2026-04-10T10:00:00Z")
	// A March event charged in April goes on April's invoice, marked with its own period.
	f.sms("acme", 1, "2026-03-20T12:00:00Z", "2026-04-05T12:00:00Z")
	f.reopen() // the open lines survive a restart (rebuilt from the charges)
	f.runDue("2026-04-30T22:00:00Z")
	list = f.invoices("acme")
	if len(list) != 2 {
		t.Fatalf("%d invoices after April, want 2", len(list))
	}
	april := list[1]
	// April 2 parts 0.15 + late March 1 part 0.075 → 0.08: net 0.23, VAT 0.0483 → 0.05
	f.wantInvoice(april, "0.23", "0.05", "0.28", "0.28", "open")
	var late bool
	for _, l := range lineOf(april, invoices.LineUsage) {
		if l.Period.String() == "2026-03" && strings.Contains(l.Description, "2026-03") && l.Amount.Equal(eur("0.08").Decimal()) {
			late = true
		}
	}
	if !late || april.Number != "INV-2026-000002" {
		t.Errorf("April invoice %s lines %+v: want the late March event on its own line marked 2026-03", april.Number, april.Lines)
	}
	// A period runs once.
	if _, err := runBilling(f.ctx, f.store, invoices.Period{Year: 2026, Month: 4}, at("2026-05-02T00:00:00Z"), "test"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("running April again: %v, want a conflict", err)
	}
	if _, err := runBilling(f.ctx, f.store, invoices.Period{Year: 2026, Month: 5}, at("2026-05-20T00:00:00Z"), "test"); ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("running May before it ended: %v, want a conflict", err)
	}
}

// R5, T&C 3.7, 3.8, R6: a partial payment leaves the rest open; the rest becomes overdue the day
// after the due date; interest on what was overdue, per day, and the collection costs go on the
// next invoice, naming the invoice.
func TestBilling_R6_partial_payment_overdue_interest_and_costs(t *testing.T) {
	f := newBillingFixture(t)
	inv := f.marchInvoice()
	p := f.pay("acme", "pay-1", "50.00", "2026-04-10T10:00:00Z", "", "2026-04-10T10:00:00Z")
	if len(p.Allocations) != 1 || p.Allocations[0].Invoice != inv || p.Allocations[0].Amount != eur("50") || p.Credit != 0 {
		t.Errorf("allocation %+v credit %s", p.Allocations, p.Credit)
	}
	f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "40.75", "open")
	f.runDue("2026-04-15T21:59:59Z") // 23:59:59 on the due date
	if v := f.invoice(inv); v.Status != "open" || len(f.notices("billing.invoice.overdue", "acme")) != 0 {
		t.Errorf("on the due date: %s, %d overdue notices", v.Status, len(f.notices("billing.invoice.overdue", "acme")))
	}
	f.runDue("2026-04-15T22:00:00Z") // 00:00 on 16 April
	f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "40.75", "overdue")
	if got := f.notices("billing.invoice.overdue", "acme"); len(got) != 1 || got[0].Body["outstanding"] != "40.75" {
		t.Errorf("overdue notices %+v", got)
	}
	f.pay("acme", "pay-2", "40.75", "2026-04-26T10:00:00Z", inv, "2026-04-26T10:00:00Z")
	f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "0.00", "paid")
	if got := f.notices("billing.invoice.paid", "acme"); len(got) != 1 {
		t.Errorf("paid notices %+v", got)
	}
	f.runDue("2026-05-01T00:00:00Z")
	list := f.invoices("acme")
	if len(list) != 2 {
		t.Fatalf("%d invoices, want 2", len(list))
	}
	// Interest 16–25 April on 40.75 at 10.15 %: 40.75 × 0.1015 × 10 / 365 = 0.1133 → 0.11; costs 40.00;
	// neither bears VAT (compensation, not a supply).
	next := list[1]
	f.wantInvoice(next, "40.11", "0.00", "40.11", "40.11", "open")
	interest, costs := lineOf(next, invoices.LineInterest), lineOf(next, invoices.LineCollectionCosts)
	if len(interest) != 1 || !interest[0].Amount.Equal(eur("0.11").Decimal()) || interest[0].Concerns != inv {
		t.Errorf("interest lines %+v", interest)
	}
	if len(costs) != 1 || !costs[0].Amount.Equal(eur("40").Decimal()) || costs[0].Concerns != inv {
		t.Errorf("collection cost lines %+v", costs)
	}
	// Nothing more is charged on the paid invoice.
	f.runDue("2026-06-01T00:00:00Z")
	for _, v := range f.invoices("acme")[2:] {
		for _, l := range v.Lines {
			if l.Concerns == inv {
				t.Errorf("%s charges %s again: %+v", v.Number, inv, l)
			}
		}
	}
}

// R8, T&C 3.10: an overpayment is the customer's credit, set off against the next invoice.
func TestBilling_R8_overpayment_set_off(t *testing.T) {
	f := newBillingFixture(t)
	f.marchInvoice()
	p := f.pay("acme", "pay-1", "100.00", "2026-04-10T10:00:00Z", "", "2026-04-10T10:00:00Z")
	if p.Credit != eur("9.25") {
		t.Errorf("credit %s, want 9.25", p.Credit)
	}
	if b := f.balance(ledger.CustomerCredit("acme")); b != -eur("9.25") {
		t.Errorf("customer credit balance %s, want -9.25", b)
	}
	f.sms("acme", 1000, "2026-04-10T08:00:00Z", "2026-04-10T08:00:01Z")
	f.runDue("2026-05-01T00:00:00Z")
	april := f.invoices("acme")[1]
	f.wantInvoice(april, "75.00", "15.75", "90.75", "81.50", "open")
	if b := f.balance(ledger.CustomerCredit("acme")); b != 0 {
		t.Errorf("customer credit balance %s after set-off, want 0", b)
	}
}

// R7, T&C 3.11: a dispute within the term (on the due date) holds the disputed amount back;
// the day after it is refused. Accepted: a credit note. Rejected: due at once, with interest from
// the original due date.
func TestBilling_R7_disputes(t *testing.T) {
	for _, outcome := range []string{"accepted", "rejected"} {
		t.Run(outcome, func(t *testing.T) {
			f := newBillingFixture(t)
			inv := f.marchInvoice()
			// On the due date, 23:00 CEST: in time. 30.25 of the 90.75 is held back.
			if _, _, err := openDispute(f.ctx, f.store, inv, billing.NewDispute{ID: "d-1", Amount: eur("30.25"), Reason: "too many", At: at("2026-04-15T21:00:00Z")}, at("2026-04-15T21:00:00Z")); err != nil {
				t.Fatal(err)
			}
			f.pay("acme", "pay-1", "60.50", "2026-04-14T10:00:00Z", inv, "2026-04-15T21:00:00Z")
			// The day after the due date (00:00 CEST on 16 April) is too late.
			_, _, err := openDispute(f.ctx, f.store, inv, billing.NewDispute{ID: "d-late", Amount: eur("1"), Reason: "too many", At: at("2026-04-15T22:00:00Z")}, at("2026-04-15T22:00:00Z"))
			var le *ledger.Error
			if !errors.As(err, &le) || le.Code != ledger.CodeRefused || le.Clause != "T&C 3.11" {
				t.Fatalf("dispute the day after the due date: %v, want refused under T&C 3.11", err)
			}
			f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "30.25", "disputed")
			f.runDue("2026-04-20T10:00:00Z")
			if n := len(f.notices("billing.invoice.overdue", "acme")); n != 0 {
				t.Errorf("%d overdue notices while all that is left is disputed", n)
			}
			if _, err := resolveDispute(f.ctx, f.store, "d-1", outcome, "test", at("2026-04-20T10:00:00Z")); err != nil {
				t.Fatal(err)
			}
			if outcome == "accepted" {
				f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "0.00", "paid")
				notes, err := f.store.CreditNotes(f.ctx, "acme", "", 10)
				if err != nil || len(notes) != 1 || notes[0].Number != "CN-2026-000001" || !notes[0].Total.Equal(eur("30.25").Decimal()) ||
					notes[0].InvoiceNumber != inv {
					t.Fatalf("credit notes %+v, %v", notes, err)
				}
				f.runDue("2026-05-01T00:00:00Z")
				if n := len(f.invoices("acme")); n != 1 {
					t.Errorf("%d invoices after May 1: no interest or costs are owed", n)
				}
				return
			}
			// Rejected: overdue since 16 April; interest 16–30 April on 30.25: 30.25 × 0.1015 × 15 / 365 = 0.1262 → 0.13.
			f.wantInvoice(f.invoice(inv), "75.00", "15.75", "90.75", "30.25", "overdue")
			if v := f.invoice(inv); v.OverdueSince != "2026-04-16" {
				t.Errorf("overdue since %s, want 2026-04-16", v.OverdueSince)
			}
			f.runDue("2026-05-01T00:00:00Z")
			next := f.invoices("acme")[1]
			if i := lineOf(next, invoices.LineInterest); len(i) != 1 || !i[0].Amount.Equal(eur("0.13").Decimal()) {
				t.Errorf("interest lines %+v, want 0.13", i)
			}
			f.wantInvoice(next, "40.13", "0.00", "40.13", "40.13", "open")
		})
	}
}

// R13, T&C 10.7: termination makes every open invoice due at once and invoices the unbilled
// usage at once, due on issue; later traffic is parked.
func TestBilling_R13_termination(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.account("beta", "postpaid", "2026-03-01T00:00:00Z")
	for _, a := range []string{"acme", "beta"} {
		f.sms(a, 1000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z")
	}
	f.runDue("2026-04-01T00:00:00Z")
	// beta: its March invoice is not due yet (15 April); terminated on 5 April it is due at once.
	f.sms("beta", 100, "2026-04-02T08:00:00Z", "2026-04-02T08:00:01Z")
	if err := terminate(f.ctx, f.store, "beta", at("2026-04-05T10:00:00Z"), "test", at("2026-04-05T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	list := f.invoices("beta")
	if len(list) != 2 || list[0].DueNow != "2026-04-05" {
		t.Fatalf("beta invoices %d, first due now %q", len(list), list[0].DueNow)
	}
	// 100 parts 7.50, VAT 1.575 → 1.58: 9.08, due on issue.
	f.wantInvoice(list[1], "7.50", "1.58", "9.08", "9.08", "open")
	if list[1].IssueDate.String() != "2026-04-05" || list[1].DueDate.String() != "2026-04-05" {
		t.Errorf("termination invoice issued %s due %s", list[1].IssueDate, list[1].DueDate)
	}
	f.runDue("2026-04-05T22:00:00Z") // 00:00 on 6 April
	if got := f.invoice(list[0].Number); got.Status != "overdue" || got.OverdueSince != "2026-04-06" {
		t.Errorf("beta's March invoice %s since %q, want overdue since 2026-04-06", got.Status, got.OverdueSince)
	}
	if st, reason := f.status("beta"); st != ledger.Closed || reason != "terminated" {
		t.Errorf("beta %s (%s), want closed (terminated)", st, reason)
	}
	if out := f.sms("beta", 1, "2026-04-06T08:00:00Z", "2026-04-06T08:00:01Z"); out != ledger.OutcomeRejected {
		t.Errorf("traffic after termination: %s, want parked", out)
	}

	// acme: overdue on 16 April; terminated on 20 April with April usage: the termination
	// invoice has the usage, interest 16–19 April on 90.75 (90.75 × 0.1015 × 4 / 365 = 0.1009
	// → 0.10) and the collection costs.
	f.sms("acme", 100, "2026-04-10T08:00:00Z", "2026-04-10T08:00:01Z")
	f.runDue("2026-04-20T10:00:00Z")
	if err := terminate(f.ctx, f.store, "acme", at("2026-04-20T10:00:00Z"), "test", at("2026-04-20T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	list = f.invoices("acme")
	if len(list) != 2 {
		t.Fatalf("acme has %d invoices, want 2", len(list))
	}
	f.wantInvoice(list[1], "47.60", "1.58", "49.18", "49.18", "open")
	// Terminating again changes nothing.
	if err := terminate(f.ctx, f.store, "acme", at("2026-04-21T10:00:00Z"), "test", at("2026-04-21T10:00:00Z")); err != nil || len(f.invoices("acme")) != 2 {
		t.Errorf("terminating again: %v, %d invoices", err, len(f.invoices("acme")))
	}
}

// Invariant 4 and gap-free numbers: concurrent runs and terminations take numbers one at a time.
func TestBilling_numbers_gap_free_under_concurrent_runs(t *testing.T) {
	f := newBillingFixture(t)
	for i := 0; i < 30; i++ {
		id := fmt.Sprintf("c%02d", i)
		f.account(id, "postpaid", "2026-01-01T00:00:00Z")
		f.sms(id, 10, "2026-01-10T08:00:00Z", "2026-01-10T08:00:01Z")
		f.sms(id, 10, "2026-02-10T08:00:00Z", "2026-02-10T08:00:01Z")
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch {
			case i < 4:
				_, errs[i] = runBilling(f.ctx, f.store, invoices.Period{Year: 2026, Month: 2}, at("2026-03-02T00:00:00Z"), "test")
			default:
				errs[i] = terminate(f.ctx, f.store, fmt.Sprintf("c%02d", i), at("2026-03-02T00:00:00Z"), "test", at("2026-03-02T00:00:00Z"))
			}
		}(i)
	}
	wg.Wait()
	ok := 0
	for i, err := range errs[:4] {
		switch {
		case err == nil:
			ok++
		case ledger.ErrorCode(err) != ledger.CodeConflict:
			t.Errorf("run %d: %v", i, err)
		}
	}
	// The terminations catch up with the clock first (January and February end before 2 March),
	// so the clock may have run February before any request did: then every request conflicts.
	if ok > 1 {
		t.Errorf("%d runs of February succeeded, want at most 1", ok)
	}
	if _, ran, err := f.store.BillingRunOf(f.ctx, invoices.Period{Year: 2026, Month: 2}); err != nil || !ran {
		t.Errorf("February has not run: %v", err)
	}
	for i, err := range errs[4:] {
		if err != nil {
			t.Errorf("termination %d: %v", i, err)
		}
	}
	list, err := f.store.Invoices(f.ctx, billing.InvoiceFilter{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	// January and February for 30 accounts; the terminated ones had everything invoiced in one.
	for i, v := range list {
		if want := invoices.Number(2026, int64(i+1)); v.Number != want {
			t.Errorf("invoice %d is %s, want %s", i, v.Number, want)
		}
	}
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Error(err)
	}
	_ = money.Micros(0)
}

// R6: interest across a change of the rate (10 % until 30 June, 12 % from 1 July), each run
// charging what accrued since the last, and an unpaid interest invoice becoming overdue in its
// turn.
func TestBilling_R6_interest_across_a_rate_change(t *testing.T) {
	f := newBillingFixture(t)
	f.store.UseInvoicing(billing.Invoicing{CollectionCosts: invoices.CollectionCosts, Rates: []invoices.Rate{
		{From: date("2026-01-01"), Annual: eur("0.10").Decimal()}, {From: date("2026-07-01"), Annual: eur("0.12").Decimal()}}})
	f.account("acme", "postpaid", "2026-05-01T00:00:00Z")
	f.sms("acme", 1000, "2026-05-10T08:00:00Z", "2026-05-10T08:00:01Z")
	f.runDue("2026-06-01T00:00:00Z")
	may := f.invoices("acme")[0]
	f.wantInvoice(may, "75.00", "15.75", "90.75", "90.75", "open")
	f.runDue("2026-07-01T00:00:00Z")
	// June run: 16–30 June at 10 %: 90.75 × 0.10 × 15 / 365 = 0.3729 → 0.37; costs 40.00.
	june := f.invoices("acme")[1]
	f.wantInvoice(june, "40.37", "0.00", "40.37", "40.37", "open")
	f.runDue("2026-08-01T00:00:00Z")
	july := f.invoices("acme")[2]
	// July run, on May's invoice: through 31 July 90.75 × (0.10 × 15 + 0.12 × 31) / 365
	// = 1.2978 → 1.30, less the 0.37 charged: 0.93. June's invoice (40.37, due 15 July) is
	// overdue from 16 July: 40.37 × 0.12 × 16 / 365 = 0.2124 → 0.21, and its costs 40.00.
	var got []string
	for _, l := range july.Lines {
		got = append(got, l.Kind+" "+l.Concerns+" "+l.Amount.StringFixed(2))
	}
	want := []string{"interest " + may.Number + " 0.93", "interest " + june.Number + " 0.21", "collection_costs " + june.Number + " 40.00"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("July's lines:\n %s\nwant\n %s", strings.Join(got, "; "), strings.Join(want, "; "))
	}
	f.wantInvoice(july, "41.14", "0.00", "41.14", "41.14", "open")
}

func date(s string) clock.LocalDate {
	d, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// R13 for a prepaid agreement: the account closes (reason terminated), what is left of its
// top-ups stays unrefunded (T&C 3.13), and later traffic is parked.
func TestBilling_R13_prepaid_termination(t *testing.T) {
	f := newBillingFixture(t)
	f.account("pre", "prepaid", "2026-03-01T00:00:00Z")
	f.mustTopUp("pre", "t1", "50.00", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z")
	f.runDue("2026-03-03T10:00:00Z")
	if err := terminate(f.ctx, f.store, "pre", at("2026-03-05T10:00:00Z"), "test", at("2026-03-05T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if st, reason := f.status("pre"); st != ledger.Closed || reason != ledger.ClosedTerminated {
		t.Errorf("pre %s (%s), want closed (terminated)", st, reason)
	}
	f.want("pre", "50.00", "0", "0")
	if out := f.sms("pre", 1, "2026-03-06T08:00:00Z", "2026-03-06T08:00:01Z"); out != ledger.OutcomeRejected {
		t.Errorf("traffic after termination: %s, want parked", out)
	}
	if err := terminate(f.ctx, f.store, "pre", at("2026-03-07T10:00:00Z"), "test", at("2026-03-07T10:00:00Z")); err != nil {
		t.Errorf("terminating again: %v", err)
	}
	if n := len(f.invoices("pre")); n != 0 {
		t.Errorf("%d invoices for a prepaid account", n)
	}
}

// R6 (art. 6:119 BW: interest compounds yearly): an invoice that charges interest does not bear
// interest on that interest when it is overdue in its turn, only on the rest (here the
// collection costs).
func TestBilling_R6_no_interest_on_interest(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.sms("acme", 100000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z") // 7,500.00 + 21 % = 9,075.00
	f.runDue("2026-04-01T00:00:00Z")
	march := f.invoices("acme")[0]
	f.wantInvoice(march, "7500.00", "1575.00", "9075.00", "9075.00", "open")
	f.runDue("2026-05-01T00:00:00Z")
	// 16–30 April: 9,075 × 0.1015 × 15 / 365 = 37.8539 → 37.85; costs 40.00.
	april := f.invoices("acme")[1]
	f.wantInvoice(april, "77.85", "0.00", "77.85", "77.85", "open")
	f.runDue("2026-06-01T00:00:00Z")
	may := f.invoices("acme")[2]
	// March's invoice through 31 May: 9,075 × 0.1015 × 46 / 365 = 116.0853 → 116.09, less 37.85:
	// 78.24. April's invoice, overdue from 16 May, bears interest on its 40.00 of costs only:
	// 40 × 0.1015 × 16 / 365 = 0.1780 → 0.18 (on all of its 77.85 it would be 0.35); its costs 40.00.
	var got []string
	for _, l := range may.Lines {
		got = append(got, l.Kind+" "+l.Concerns+" "+l.Amount.StringFixed(2))
	}
	want := "interest " + march.Number + " 78.24; interest " + april.Number + " 0.18; collection_costs " + april.Number + " 40.00"
	if strings.Join(got, "; ") != want {
		t.Errorf("May's lines:\n %s\nwant\n %s", strings.Join(got, "; "), want)
	}
}

// R4 follows invoicing (T&C 3.5, 3.6, 10.4): exposure is unbilled usage plus outstanding
// invoices; issuing adds the VAT, so an account can reach its limit by being invoiced; paying
// lowers exposure and resumes the account; an overpayment lowers it further.
func TestBilling_R4_exposure_follows_invoices_and_payments(t *testing.T) {
	f := newBillingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	if err := f.store.SetCreditLimit(f.ctx, "acme", eur("100"), "test", at("2026-03-01T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	f.sms("acme", 1200, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z") // 90.00 unbilled: 90 %
	if c := f.bookCredit("acme"); c.Exposure != eur("90") || c.Status != ledger.Active {
		t.Fatalf("before invoicing: exposure %s, %s", c.Exposure, c.Status)
	}
	f.runDue("2026-04-01T00:00:00Z")
	// Invoiced: 90.00 + 18.90 VAT = 108.90 outstanding, over the limit of 100: suspended (T&C 3.6).
	if c := f.bookCredit("acme"); c.Exposure != eur("108.90") || c.Status != ledger.Suspended {
		t.Errorf("after invoicing: exposure %s, %s; want 108.90, suspended", c.Exposure, c.Status)
	}
	if st, _ := f.status("acme"); st != ledger.Suspended {
		t.Errorf("the database says %s", st)
	}
	f.pay("acme", "pay-1", "120.00", "2026-04-10T10:00:00Z", "", "2026-04-10T10:00:00Z")
	// Paid, and 11.10 of credit: exposure −11.10; resumed (T&C 10.4).
	if c := f.bookCredit("acme"); c.Exposure != -eur("11.10") || c.Status != ledger.Active {
		t.Errorf("after paying: exposure %s, %s; want -11.10, active", c.Exposure, c.Status)
	}
	if got := f.notices("billing.account.resumed", "acme"); len(got) != 1 {
		t.Errorf("%d resumed notices, want 1", len(got))
	}
	f.reopen() // the book is loaded from the ledger as it was kept
	if c := f.bookCredit("acme"); c.Exposure != -eur("11.10") || c.Status != ledger.Active {
		t.Errorf("after a restart: exposure %s, %s", c.Exposure, c.Status)
	}
}
