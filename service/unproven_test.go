package service_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// Issue 15, rules that worked but no service test proved.

// R5.4: an agreement's own payment terms set the invoice's due date.
func TestUnproven_R5_4_payment_terms_of_the_agreement(t *testing.T) {
	e := start(t)
	e.createAccount("slow", map[string]any{"payment_terms_days": 30})
	e.publish(nil, sms("pt-1", "slow", "+31612345678", 1))
	e.settle()
	e.setClock("2026-04-01T00:00:00Z")
	invs := e.invoices("account=slow")
	if len(invs) != 1 || invs[0].IssueDate != "2026-04-01" || invs[0].DueDate != "2026-05-01" {
		t.Fatalf("invoices %+v, want one issued 2026-04-01 and due 30 days later", invs)
	}
}

// R5.14 and R8.4: a payment naming no invoice goes to the oldest due invoice first.
func TestUnproven_R5_14_payment_to_the_oldest_invoice(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, sms("o-1", "acme", "+31612345678", 100))
	e.settle()
	e.setClock("2026-04-01T00:00:00Z")
	invs := e.aprilInvoice("o-2", "acme")
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/payments", `{"id":"pay-1","amount":"`+invs[0].Total+`"}`); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}
	invs = e.invoices("account=acme")
	if invs[0].Status != "paid" || invs[1].Status == "paid" {
		t.Errorf("after paying the first's total: %s %s, %s %s; want the oldest paid, the newer not", invs[0].ID, invs[0].Status, invs[1].ID, invs[1].Status)
	}
}

// R7.2 and idempotency: a dispute without a reason is refused at the API; the same dispute
// again answers what was recorded, 200; the same id with other terms is a conflict.
func TestUnproven_R7_2_disputes(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	inv := e.marchInvoice("d-1", "acme", 100).ID
	path := "/v1/invoices/" + inv + "/disputes"
	if status, raw := e.apiRaw("", "POST", path, `{"id":"dp-1","amount":"1.00","reason":"  "}`); status != 400 || !strings.Contains(string(raw), "T&C 3.11") {
		t.Errorf("a dispute without a reason: %d %s, want 400 naming T&C 3.11", status, raw)
	}
	body := `{"id":"dp-1","amount":"1.00","reason":"wrong rate"}`
	if status, raw := e.apiRaw("", "POST", path, body); status != 201 {
		t.Fatalf("dispute: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", path, body); status != 200 {
		t.Errorf("the same dispute again: %d %s, want 200", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", path, `{"id":"dp-1","amount":"2.00","reason":"wrong rate"}`); status != 409 {
		t.Errorf("the same id with another amount: %d %s, want 409", status, raw)
	}
}

// R13: a termination publishes billing.account.closed.
func TestUnproven_termination_announced(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/terminate", `{}`); status != 200 {
		t.Fatalf("terminate: %d %s", status, raw)
	}
	e.waitNotices("billing.account.closed", "acme", 1)
}

// R6.3, T&C 3.8: interest compounds yearly — through the service, not only the helper. An
// invoice left unpaid past the first anniversary of its overdue date bears, from then on,
// interest on its amount plus the year's interest: the interest lines that concern it, over
// every invoice issued since, add up to that, rounded to cents once (12.15 % a year, the test
// tariffs' rate; 2026 and 2027 have 365 days).
func TestUnproven_R6_3_interest_compounds_yearly(t *testing.T) {
	e := start(t)
	e.createAccount("late", nil)
	first := e.marchInvoice("c-1", "late", 1000)
	if first.DueDate != "2026-04-15" {
		t.Fatalf("first invoice %+v, want due 2026-04-15", first)
	}
	e.setClock("2027-06-01T00:00:00Z") // May 2027's run charges interest through 2027-05-31
	var charged decimal.Decimal
	for _, inv := range e.invoices("account=late&limit=1000") {
		for _, l := range inv.Lines {
			if l.Kind == "interest" && strings.Contains(l.Description, "on "+first.ID+",") {
				charged = charged.Add(decimal.RequireFromString(l.Amount))
			}
		}
	}
	p, rate, days := decimal.RequireFromString(first.Total), decimal.RequireFromString("0.1215"), decimal.NewFromInt(365)
	year := p.Mul(rate)                                                  // 2026-04-16 … 2027-04-15
	after := p.Add(year).Mul(rate).Mul(decimal.NewFromInt(46)).Div(days) // 2027-04-16 … 2027-05-31
	want := year.Add(after).Round(2)
	if !charged.Equal(want) {
		t.Errorf("interest on %s (total %s) through 2027-05-31: %s charged, want %s (compounded after a year)", first.ID, first.Total, charged, want)
	}
	simple := p.Mul(rate).Mul(decimal.NewFromInt(365 + 46)).Div(days).Round(2)
	if charged.Equal(simple) {
		t.Errorf("the interest charged, %s, is simple interest: it did not compound", charged)
	}
}

// R5.12, T&C 3.9: a payment not made by SEPA credit transfer settles only what was received;
// the bank's charges the customer bore are still owed.
func TestUnproven_R5_12_non_SEPA_settles_what_was_received(t *testing.T) {
	e := start(t)
	e.createAccount("abroad", nil)
	inv := e.marchInvoice("n-1", "abroad", 1000)
	received := decimal.RequireFromString(inv.Total).Sub(decimal.RequireFromString("5.00")).StringFixed(2)
	body := `{"id":"swift-1","amount":"` + received + `","invoice_id":"` + inv.ID + `","sepa":false}`
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/abroad/payments", body); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}
	inv = e.invoices("account=abroad")[0]
	if inv.Outstanding != "5.00" || inv.Status == "paid" {
		t.Errorf("after a non-SEPA payment of %s: outstanding %s, status %s; want 5.00 still owed", received, inv.Outstanding, inv.Status)
	}
}

// R8.2 (T&C 3.10): a credit note for an invoice the customer has paid in full leaves what it
// credits as the customer's credit, which the provider sets off against the next invoice, as
// an explicit entry. (A payment settles what is not disputed and holds the disputed part as the
// customer's credit at once; the accepted dispute's credit note then settles that part, so the
// money paid for it is what the customer is owed back.)
func TestUnproven_R8_2_credit_note_beyond_outstanding_sets_off_later(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	march := e.marchInvoice("c-1", "acme", 100)
	want(t, "March's total", march.Total, "9.08") // 100 × 0.075 = 7.50 + 21 % VAT 1.58
	// 2.42 (2.00 + 0.42 VAT) disputed; the customer pays the whole invoice all the same before
	// the dispute is decided: accepted, its credit note of 2.42 finds nothing left to credit.
	if status, raw := e.apiRaw("", "POST", "/v1/invoices/"+march.ID+"/disputes", `{"id":"d-1","amount":"2.42","reason":"wrong rate"}`); status != 201 {
		t.Fatalf("dispute: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/accounts/acme/payments", `{"id":"p-1","amount":"9.08","invoice_id":"`+march.ID+`"}`); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}
	if status, raw := e.apiRaw("", "POST", "/v1/disputes/d-1/resolve", `{"outcome":"accepted"}`); status != 200 {
		t.Fatalf("resolve: %d %s", status, raw)
	}
	march = e.invoices("account=acme")[0]
	want(t, "March after the credit note", march.Outstanding, "0.00")

	invs := e.aprilInvoice("c-2", "acme")
	april := invs[1]
	want(t, "April's total and outstanding", april.Total+" "+april.Outstanding, "9.08 6.66") // 9.08 − the 2.42 credit
	var setOff bool
	for _, entry := range e.apiEntries("/v1/accounts/acme/entries") {
		setOff = setOff || strings.Contains(entry.LedgerAccount, ":credit") && entry.Amount == "2.420000"
	}
	if !setOff {
		t.Errorf("no entry moving the 2.42 of credit onto April's invoice in %+v (R8: each application an explicit entry)", e.apiEntries("/v1/accounts/acme/entries"))
	}
}

// marchInvoice charges parts SMS to a Dutch mobile in March (event id) and moves the clock to
// 1 April, when March is invoiced; it returns the account's first invoice.
func (e *env) marchInvoice(id, account string, parts int64) invoiceDoc {
	e.t.Helper()
	e.publish(nil, sms(id, account, "+31612345678", parts))
	e.settle()
	e.setClock("2026-04-01T00:00:00Z")
	return e.invoices("account=" + account)[0]
}

// aprilInvoice charges 100 SMS in April (event id) and moves the clock to 1 May, when April is
// invoiced; it returns the account's invoices, March's and April's.
func (e *env) aprilInvoice(id, account string) []invoiceDoc {
	e.t.Helper()
	e.publish(nil, event{ID: id, Account: account, Channel: "sms", Destination: "+31612345678", Quantity: 100, OccurredAt: "2026-04-10T08:00:00Z"})
	e.settle()
	e.setClock("2026-05-01T00:00:00Z")
	invs := e.invoices("account=" + account)
	if len(invs) != 2 {
		e.t.Fatalf("invoices %+v, want March's and April's", invs)
	}
	return invs
}
