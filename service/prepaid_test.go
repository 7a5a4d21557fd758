package service_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"ledger/billing"
	"ledger/events"
)

type prepaidBlock struct {
	Usable          string `json:"usable"`
	Pending         string `json:"pending"`
	Shortfall       string `json:"shortfall"`
	ChargebacksOwed string `json:"chargebacks_owed"`
	Lots            []struct {
		ID          string `json:"id"`
		Amount      string `json:"amount"`
		Remaining   string `json:"remaining"`
		UsableFrom  string `json:"usable_from"`
		ExpiresAt   string `json:"expires_at"`
		State       string `json:"state"`
		Expired     string `json:"expired"`
		ChargedBack string `json:"charged_back"`
	} `json:"lots"`
}

type prepaidAccount struct {
	Status       string       `json:"status"`
	ClosedReason string       `json:"closed_reason"`
	Prepaid      prepaidBlock `json:"prepaid"`
}

func (e *env) prepaidAccount(id string) prepaidAccount {
	e.t.Helper()
	var a prepaidAccount
	if status, raw := e.do("GET", "/v1/accounts/"+id, nil, &a); status != 200 {
		e.t.Fatalf("get account %s: %d %s", id, status, raw)
	}
	return a
}

// wantPrepaid waits until the account shows these balances (usage is charged asynchronously).
func (e *env) wantPrepaid(id, usable, pending, shortfall string) prepaidAccount {
	e.t.Helper()
	var a prepaidAccount
	e.eventually(20*time.Second, func() error {
		a = e.prepaidAccount(id)
		if p := a.Prepaid; p.Usable != usable || p.Pending != pending || p.Shortfall != shortfall {
			return fmt.Errorf("%s: usable %s pending %s shortfall %s; want %s, %s, %s", id, p.Usable, p.Pending, p.Shortfall, usable, pending, shortfall)
		}
		return nil
	})
	return a
}

func (e *env) setClock(now string) {
	e.t.Helper()
	if status, raw := e.do("POST", "/v1/clock", map[string]string{"now": now}, nil); status != 200 {
		e.t.Fatalf("POST /v1/clock %s: %d %s", now, status, raw)
	}
}

func (e *env) topUp(account, id, amount, received string) (int, []byte) {
	e.t.Helper()
	return e.do("POST", "/v1/accounts/"+account+"/topups", map[string]string{"id": id, "amount": amount, "received_at": received, "method": "card"}, nil)
}

func smsAt(id, account string, parts int64, occurred string) event {
	return event{ID: id, Account: account, Channel: "sms", Destination: "+31612345678", Quantity: parts, OccurredAt: occurred}
}

// R9–R11 through the running service: a top-up pending on its day and usable the next
// (T&C 3.13), usage over NATS drawn from it, the shortfall of the first day cleared first,
// authorisation over HTTP and NATS, a restart in between, a chargeback beyond the balance
// closing the account (T&C 3.14), and what a closed account can no longer do.
func TestPrepaid_through_the_pipeline(t *testing.T) {
	e := start(t)
	e.createAccount("pp", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	if status, raw := e.topUp("pp", "t1", "10.00", "2026-03-10T09:00:00Z"); status != 201 {
		t.Fatalf("top-up: %d %s", status, raw)
	}
	a := e.wantPrepaid("pp", "0.000000", "10.000000", "0.000000")
	if l := a.Prepaid.Lots; len(l) != 1 || l[0].State != "pending" || l[0].UsableFrom != "2026-03-10T23:00:00Z" || l[0].ExpiresAt != "2027-03-09T23:00:00Z" {
		t.Fatalf("lots %+v; want one pending, usable from 2026-03-10T23:00Z, expiring 2027-03-09T23:00Z", l)
	}
	if d := e.authorize("pp", 1); d.Allowed || d.Reason != "insufficient_balance" {
		t.Errorf("authorize on the day of the top-up: %+v, want insufficient_balance (T&C 3.13)", d)
	}
	e.publish(nil, smsAt("pp-1", "pp", 2, "2026-03-10T08:30:00Z")) // 0.15, same day: a shortfall
	e.wantPrepaid("pp", "0.000000", "10.000000", "0.150000")

	e.restart()
	e.wantPrepaid("pp", "0.000000", "10.000000", "0.150000")
	e.setClock("2026-03-11T08:00:00Z")
	e.wantPrepaid("pp", "9.850000", "0.000000", "0.000000")
	usable := e.waitNotices("billing.prepaid.usable", "pp", 1)
	if usable[0]["topup_id"] != "t1" || usable[0]["amount"] != "10.000000" || usable[0]["at"] != "2026-03-10T23:00:00Z" {
		t.Errorf("usable notice %v", usable[0])
	}
	if d := e.authorize("pp", 1); !d.Allowed {
		t.Errorf("authorize the day after: %+v, want allowed", d)
	}
	e.publish(nil, smsAt("pp-2", "pp", 100, "2026-03-11T07:00:00Z")) // 7.50
	e.wantPrepaid("pp", "2.350000", "0.000000", "0.000000")
	// 40 parts = 3.00 > 2.35: refused, over NATS as over HTTP.
	body, _ := json.Marshal(billing.AuthorizeRequest{Account: "pp", Channel: "sms", Destination: "+31612345678", Quantity: 40})
	msg, err := e.nc.Request(events.AuthorizeSubject, body, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var d decision
	json.Unmarshal(msg.Data, &d)
	if d.Allowed || d.Reason != "insufficient_balance" || d.Estimate != "3.000000" {
		t.Errorf("NATS authorize beyond the balance: %+v, want insufficient_balance, estimate 3.000000", d)
	}

	// Refunds are refused (T&C 3.13).
	if status, raw := e.do("POST", "/v1/accounts/pp/refunds", map[string]string{"id": "r1", "amount": "2.35"}, nil); status != 422 || !strings.Contains(string(raw), "T&C 3.13") {
		t.Errorf("refund: %d %s, want 422 citing T&C 3.13", status, raw)
	}
	// The card top-up is reversed: 2.35 set off, 7.65 owed, no balance left: closed.
	var cb struct {
		SetOff string `json:"set_off"`
		Owed   string `json:"owed"`
		Closed bool   `json:"account_closed"`
	}
	if status, raw := e.do("POST", "/v1/accounts/pp/chargebacks", map[string]string{"id": "cb1", "topup_id": "t1", "amount": "10.00"}, &cb); status != 201 {
		t.Fatalf("chargeback: %d %s", status, raw)
	}
	if cb.SetOff != "2.350000" || cb.Owed != "7.650000" || !cb.Closed {
		t.Errorf("chargeback %+v; want 2.35 set off, 7.65 owed, account closed", cb)
	}
	a = e.prepaidAccount("pp")
	if a.Status != "closed" || a.ClosedReason != "chargeback" || a.Prepaid.ChargebacksOwed != "7.650000" {
		t.Errorf("after the chargeback: %+v; want closed (chargeback), 7.65 owed", a)
	}
	if closed := e.waitNotices("billing.account.closed", "pp", 1); closed[0]["reason"] != "chargeback" {
		t.Errorf("closed notice %v, want reason chargeback", closed[0])
	}
	if d := e.authorize("pp", 1); d.Allowed || d.Reason != "closed" {
		t.Errorf("authorize when closed: %+v, want closed", d)
	}
	if status, raw := e.topUp("pp", "t2", "5.00", "2026-03-11T08:00:00Z"); status != 409 || !strings.Contains(string(raw), "T&C 3.15") {
		t.Errorf("top-up of a closed account: %d %s, want 409 citing T&C 3.15", status, raw)
	}
	e.publish(nil, smsAt("pp-3", "pp", 1, "2026-03-11T08:00:00Z"))
	e.settle()
	var parked struct {
		Items []struct {
			EventID string `json:"event_id"`
		} `json:"items"`
	}
	e.do("GET", "/v1/rejected?reason=account_closed", nil, &parked)
	if len(parked.Items) != 1 || parked.Items[0].EventID != "pp-3" {
		t.Errorf("parked account_closed: %+v, want pp-3", parked.Items)
	}
}

// R9, T&C 3.15 on the clock: moving it a year on expires the lot, forfeiting what is left, and
// three months after the balance reached zero the account is closed — in that order, each
// notice on the BILLING stream once.
func TestPrepaid_expiry_and_closure_on_the_clock(t *testing.T) {
	e := start(t)
	e.createAccount("idle", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	e.createAccount("never", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	if status, raw := e.topUp("idle", "t1", "20.00", "2026-03-10T09:00:00Z"); status != 201 {
		t.Fatalf("top-up: %d %s", status, raw)
	}
	// Metrics (CONTRACT 6): "never" is to be closed at 2026-06-01T22:00Z, within 30 days of
	// 15 May; "idle" has nothing expiring soon, so no per-account series.
	e.setClock("2026-05-15T00:00:00Z")
	metrics := e.metricsText()
	for _, want := range []string{
		`ledger_prepaid_closure_due_timestamp_seconds{account="never"} 1.7803512e+09`,
		`ledger_prepaid_usable_total_eur 20`,
		`ledger_prepaid_expiring_30d_total_eur 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(metrics, "ledger_prepaid"))
		}
	}
	if strings.Contains(metrics, `ledger_prepaid_usable_eur{account="idle"}`) {
		t.Errorf("idle has nothing expiring or closing within 30 days, yet has a series:\n%s", grep(metrics, "ledger_prepaid"))
	}
	e.setClock("2026-06-01T22:00:00Z") // 00:00 Amsterdam on 2 June: 3 months after registration
	if a := e.prepaidAccount("never"); a.Status != "closed" || a.ClosedReason != "no_topup_after_registration" {
		t.Errorf("never topped up: %+v, want closed (no_topup_after_registration)", a)
	}
	if a := e.prepaidAccount("idle"); a.Status != "active" {
		t.Errorf("topped up: %+v, want active", a)
	}
	e.setClock("2027-02-20T00:00:00Z") // the lot expires on 10 March 2027: within 30 days
	metrics = e.metricsText()
	for _, want := range []string{`ledger_prepaid_expiring_30d_eur{account="idle"} 20`, `ledger_prepaid_usable_eur{account="idle"} 20`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(metrics, "ledger_prepaid"))
		}
	}
	e.setClock("2027-06-11T00:00:00Z")
	a := e.prepaidAccount("idle")
	if a.Status != "closed" || a.ClosedReason != "no_topup_after_depletion" || len(a.Prepaid.Lots) != 1 || a.Prepaid.Lots[0].State != "expired" || a.Prepaid.Lots[0].Expired != "20.000000" {
		t.Errorf("a year on: %+v; want the lot expired with 20.00 forfeited and the account closed (no_topup_after_depletion)", a)
	}
	expired := e.waitNotices("billing.prepaid.expired", "idle", 1)
	if expired[0]["amount"] != "20.000000" || expired[0]["at"] != "2027-03-09T23:00:00Z" {
		t.Errorf("expired notice %v", expired[0])
	}
	closed := e.waitNotices("billing.account.closed", "idle", 1)
	if closed[0]["at"] != "2027-06-10T22:00:00Z" { // 10 June is the last day of the 3 months from 10 March 2027: closed at 00:00 Amsterdam on 11 June
		t.Errorf("closed notice %v, want at 2027-06-10T22:00:00Z", closed[0])
	}
}

func (e *env) metricsText() string {
	e.t.Helper()
	status, raw := e.do("GET", "/metrics", nil, nil)
	if status != 200 {
		e.t.Fatalf("/metrics: %d", status)
	}
	return string(raw)
}

// CONTRACT 3.2: what the top-up and chargeback routes refuse, and how.
func TestPrepaid_API_errors(t *testing.T) {
	e := start(t)
	e.createAccount("pp", map[string]any{"type": "prepaid", "registered_at": "2026-03-01T00:00:00Z"})
	e.createAccount("post", nil)
	if status, _ := e.topUp("pp", "t1", "10.00", "2026-03-10T09:00:00Z"); status != 201 {
		t.Fatal(status)
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		mention            string
	}{
		{"same_topup_again_200", "POST", "/v1/accounts/pp/topups", map[string]string{"id": "t1", "amount": "10.00", "received_at": "2026-03-10T09:00:00Z", "method": "card"}, 200, ""},
		{"same_id_other_amount_409", "POST", "/v1/accounts/pp/topups", map[string]string{"id": "t1", "amount": "11.00", "received_at": "2026-03-10T09:00:00Z", "method": "card"}, 409, "other terms"},
		{"fraction_of_a_cent_400", "POST", "/v1/accounts/pp/topups", map[string]string{"id": "t2", "amount": "1.001"}, 400, "2 decimals"},
		{"received_in_the_future_400", "POST", "/v1/accounts/pp/topups", map[string]string{"id": "t2", "amount": "1.00", "received_at": "2026-03-11T09:00:00Z"}, 400, "later than now"},
		{"unknown_account_404", "POST", "/v1/accounts/nobody/topups", map[string]string{"id": "t3", "amount": "1.00"}, 404, "nobody"},
		{"postpaid_account_409", "POST", "/v1/accounts/post/topups", map[string]string{"id": "t4", "amount": "1.00"}, 409, "prepaid"},
		{"unknown_field_400", "POST", "/v1/accounts/pp/topups", map[string]any{"id": "t5", "amount": "1.00", "currency": "USD"}, 400, "currency"},
		{"chargeback_of_unknown_topup_404", "POST", "/v1/accounts/pp/chargebacks", map[string]string{"id": "cb1", "topup_id": "nope", "amount": "1.00"}, 404, "nope"},
		{"chargeback_beyond_the_topup_409", "POST", "/v1/accounts/pp/chargebacks", map[string]string{"id": "cb2", "topup_id": "t1", "amount": "10.01"}, 409, "exceeds"},
		{"refund_of_postpaid_422", "POST", "/v1/accounts/post/refunds", map[string]string{"id": "r1", "amount": "1.00"}, 422, "postpaid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, raw := e.do(c.method, c.path, c.body, nil)
			if status != c.status || !strings.Contains(string(raw), c.mention) {
				t.Errorf("%s %s: %d %s; want %d mentioning %q", c.method, c.path, status, raw, c.status, c.mention)
			}
		})
	}
	var lots struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if status, _ := e.do("GET", "/v1/accounts/pp/topups", nil, &lots); status != 200 || len(lots.Items) != 1 {
		t.Errorf("GET topups: %d %+v, want the one lot", status, lots.Items)
	}
}
