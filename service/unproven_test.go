package service_test

import (
	"strings"
	"testing"
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
	e.publish(nil, event{ID: "o-2", Account: "acme", Channel: "sms", Destination: "+31612345678", Quantity: 100, OccurredAt: "2026-04-10T08:00:00Z"})
	e.settle()
	e.setClock("2026-05-01T00:00:00Z")
	invs := e.invoices("account=acme")
	if len(invs) != 2 {
		t.Fatalf("invoices %+v, want March's and April's", invs)
	}
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
	e.publish(nil, sms("d-1", "acme", "+31612345678", 100))
	e.settle()
	e.setClock("2026-04-01T00:00:00Z")
	inv := e.invoices("account=acme")[0].ID
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
