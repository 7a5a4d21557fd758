package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ledger/events"
	"ledger/money"
	"ledger/sql"
)

// notices reads every event of subject for account from the BILLING stream itself (not a live
// subscription), so that what was published across restarts is counted exactly.
func (e *env) notices(subject, account string) []map[string]any {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := e.js.OrderedConsumer(ctx, "BILLING", jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for n := info.NumPending; n > 0; n-- {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			e.t.Fatal(err)
		}
		var body map[string]any
		json.Unmarshal(m.Data(), &body)
		if body["account"] == account {
			out = append(out, body)
		}
	}
	return out
}

// waitNotices waits until exactly want notices of subject for account are in the stream (the
// outbox relays within a second), then checks that no more come.
func (e *env) waitNotices(subject, account string, want int) []map[string]any {
	e.t.Helper()
	var got []map[string]any
	e.eventually(10*time.Second, func() error {
		got = e.notices(subject, account)
		if len(got) < want {
			return fmt.Errorf("%d %s notices for %s, want %d", len(got), subject, account, want)
		}
		return nil
	})
	time.Sleep(1200 * time.Millisecond) // a relay period: nothing more may come
	if got = e.notices(subject, account); len(got) != want {
		e.t.Fatalf("%d %s notices for %s, want exactly %d: %v", len(got), subject, account, want, got)
	}
	return got
}

func (e *env) smsBatch(account string, from, n int) {
	e.t.Helper()
	var evs []event
	for i := from; i < from+n; i++ {
		evs = append(evs, sms(fmt.Sprintf("%s-%d", account, i), account, "+31612345678", 1))
	}
	e.publish(nil, evs...)
}

func (e *env) setLimit(account, amount string) {
	e.t.Helper()
	if status, raw := e.do("PUT", "/v1/accounts/"+account+"/credit-limit", map[string]string{"amount": amount}, nil); status != 200 {
		e.t.Fatalf("PUT credit-limit %s: %d %s", amount, status, raw)
	}
}

func thresholdsOf(ns []map[string]any) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprint(n["threshold"]))
	}
	return out
}

// R4, T&C 3.5: with a limit of 1.00 and 0.075 per SMS, each threshold is notified once when
// crossed upward, whatever comes after, and a restart neither repeats nor loses one.
func TestCredit_R4_each_threshold_notified_once_across_restart(t *testing.T) {
	e := start(t)
	e.createAccount("thr", map[string]any{"credit_limit": "1.00"})
	e.smsBatch("thr", 0, 10) // 0.75: below 80 %
	e.waitUnbilled("thr", "0.750000")
	e.waitNotices("billing.credit.threshold", "thr", 0)
	e.smsBatch("thr", 10, 1) // 0.825 ≥ 0.80
	e.waitUnbilled("thr", "0.825000")
	got := e.waitNotices("billing.credit.threshold", "thr", 1)
	if got[0]["exposure"] != "0.825000" || got[0]["credit_limit"] != "1.00" || fmt.Sprint(got[0]["threshold"]) != "0.8" {
		t.Errorf("notice = %v, want threshold 0.8, exposure 0.825000, credit_limit 1.00", got[0])
	}
	e.restart()
	e.smsBatch("thr", 11, 1) // 0.90 ≥ 0.90
	e.waitUnbilled("thr", "0.900000")
	got = e.waitNotices("billing.credit.threshold", "thr", 2)
	if fmt.Sprint(thresholdsOf(got)) != "[0.8 0.9]" {
		t.Errorf("thresholds notified %v, want [0.8 0.9]", thresholdsOf(got))
	}
	e.smsBatch("thr", 12, 1) // 0.975: still under 100 %, nothing new
	e.waitUnbilled("thr", "0.975000")
	e.waitNotices("billing.credit.threshold", "thr", 2)
	if a := e.account("thr"); a.Status != "active" || a.Exposure != "0.975000" {
		t.Errorf("account = %+v, want active with exposure 0.975000", a)
	}
}

// R4, T&C 3.6, 10.3, 10.4: at 100 % the account is suspended and still charged; a higher limit
// resumes it and re-arms the thresholds it fell below; a lower one suspends it at once.
func TestCredit_R4_suspension_resume_and_limit_changes(t *testing.T) {
	e := start(t)
	e.createAccount("sus", map[string]any{"credit_limit": "1.00"})
	e.smsBatch("sus", 0, 14) // 1.05 ≥ 1.00
	e.waitUnbilled("sus", "1.050000")
	e.waitNotices("billing.account.suspended", "sus", 1)
	if a := e.account("sus"); a.Status != "suspended" {
		t.Fatalf("status %s at 105 %%, want suspended", a.Status)
	}
	if d := e.authorize("sus", 1); d.Allowed || d.Reason != "suspended" {
		t.Errorf("authorize while suspended = %+v, want not allowed, reason suspended", d)
	}
	e.smsBatch("sus", 14, 2) // T&C 10.3: traffic during suspension is still owed
	e.waitUnbilled("sus", "1.200000")
	e.waitNotices("billing.account.suspended", "sus", 1)

	e.setLimit("sus", "2.00") // 1.20 / 2.00 = 60 %: resumed, 80 % and 90 % re-armed
	if a := e.account("sus"); a.Status != "active" || a.CreditLimit != "2.00" {
		t.Fatalf("after raising the limit: %+v, want active, limit 2.00", a)
	}
	e.waitNotices("billing.account.resumed", "sus", 1)
	e.smsBatch("sus", 16, 6) // 1.65 ≥ 1.60 (80 % of 2.00): notified again
	e.waitUnbilled("sus", "1.650000")
	got := e.waitNotices("billing.credit.threshold", "sus", 3) // 0.8 and 0.9 on the way to 100 %, then 0.8 again
	if fmt.Sprint(thresholdsOf(got)) != "[0.8 0.9 0.8]" {
		t.Errorf("thresholds notified %v, want [0.8 0.9 0.8]", thresholdsOf(got))
	}

	e.setLimit("sus", "1.50") // 1.65 ≥ 1.50: suspended at once (T&C 3.6), 90 % crossed now
	if a := e.account("sus"); a.Status != "suspended" {
		t.Fatalf("after lowering the limit below the exposure: status %s, want suspended", a.Status)
	}
	e.waitNotices("billing.account.suspended", "sus", 2)
	e.waitNotices("billing.credit.threshold", "sus", 4)

	e.setLimit("sus", "0") // cancelled: no credit at all
	changes, err := e.svc.Store.(*sql.Store).CreditLimitChanges(context.Background(), "sus")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ old, new money.Micros }{{1_000_000, 2_000_000}, {2_000_000, 1_500_000}, {1_500_000, 0}}
	if len(changes) != len(want) {
		t.Fatalf("%d limit changes recorded, want %d", len(changes), len(want))
	}
	for i, c := range changes {
		if c.Old != want[i].old || c.New != want[i].new || c.By == "" || c.At.IsZero() {
			t.Errorf("change %d = %+v, want %v → %v with who and when", i, c, want[i].old, want[i].new)
		}
	}
	if status, raw := e.do("PUT", "/v1/accounts/sus/credit-limit", map[string]string{"amount": "-1"}, nil); status != 400 {
		t.Errorf("negative limit: %d %s, want 400", status, raw)
	}
	if status, _ := e.do("PUT", "/v1/accounts/nobody/credit-limit", map[string]string{"amount": "10"}, nil); status != 404 {
		t.Errorf("limit of an unknown account: %d, want 404", status)
	}
}

type decision struct {
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason"`
	Estimate string `json:"estimate"`
	Error    string `json:"error"`
}

func (e *env) authorize(account string, parts int64) decision {
	e.t.Helper()
	var d decision
	body := map[string]any{"account": account, "channel": "sms", "destination": "+31612345678", "quantity": parts}
	if status, raw := e.do("POST", "/v1/authorize", body, &d); status != 200 {
		e.t.Fatalf("authorize: %d %s", status, raw)
	}
	return d
}

// R4, CONTRACT 3.4: allowed only if active and exposure + estimate ≤ limit; the same answer
// over HTTP and over NATS request–reply.
func TestCredit_R4_authorize_over_HTTP_and_NATS(t *testing.T) {
	e := start(t)
	e.createAccount("auth", map[string]any{"credit_limit": "1.00"})
	e.smsBatch("auth", 0, 10) // 0.75
	e.waitUnbilled("auth", "0.750000")
	cases := []struct {
		name    string
		request map[string]any
		want    decision
	}{
		{"within_the_limit", map[string]any{"account": "auth", "channel": "sms", "destination": "+31612345678", "quantity": 3}, decision{Allowed: true, Estimate: "0.225000"}},         // 0.75 + 0.225 = 0.975
		{"up_to_the_limit", map[string]any{"account": "auth", "channel": "sms", "destination": "+31612345678", "quantity": 4}, decision{Reason: "credit_limit", Estimate: "0.300000"}}, // 1.05 > 1.00
		{"unknown_account", map[string]any{"account": "ghost", "channel": "sms", "destination": "+31612345678", "quantity": 1}, decision{Reason: "unknown_account", Estimate: "0.075000"}},
		{"no_price", map[string]any{"account": "auth", "channel": "sms", "destination": "+99912345", "quantity": 1}, decision{Reason: "no_price", Estimate: "0.000000"}},
		{"voice_estimate_within", map[string]any{"account": "auth", "channel": "voice", "destination": "+31612345678", "quantity": 61, "caller_id": "+31201234567"}, decision{Allowed: true, Estimate: "0.240000"}},         // 120 s: 0.99 ≤ 1.00
		{"voice_estimate_over", map[string]any{"account": "auth", "channel": "voice", "destination": "+31612345678", "quantity": 121, "caller_id": "+31201234567"}, decision{Reason: "credit_limit", Estimate: "0.360000"}}, // 180 s: 1.11 > 1.00
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var http decision
			if status, raw := e.do("POST", "/v1/authorize", c.request, &http); status != 200 {
				t.Fatalf("HTTP: %d %s", status, raw)
			}
			body, _ := json.Marshal(c.request)
			msg, err := e.nc.Request(events.AuthorizeSubject, body, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var overNATS decision
			json.Unmarshal(msg.Data, &overNATS)
			if http != c.want || overNATS != c.want {
				t.Errorf("HTTP %+v, NATS %+v, want %+v", http, overNATS, c.want)
			}
		})
	}
	msg, err := e.nc.Request(events.AuthorizeSubject, []byte(`{"account":"auth","channel":"fax"}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var bad decision
	json.Unmarshal(msg.Data, &bad)
	if bad.Allowed || bad.Error == "" {
		t.Errorf("invalid request over NATS = %+v, want not allowed with an error", bad)
	}
}

// CONTRACT 6: the per-account gauges from the utilization floor up, and suspended accounts.
func TestCredit_metrics(t *testing.T) {
	e := start(t)
	e.createAccount("low", map[string]any{"credit_limit": "100.00"})
	e.createAccount("high", map[string]any{"credit_limit": "1.00"})
	e.smsBatch("low", 0, 1)   // 0.075 / 100: under the floor, not exported
	e.smsBatch("high", 0, 11) // 0.825 / 1.00
	e.waitUnbilled("high", "0.825000")
	e.waitUnbilled("low", "0.075000")
	if got := e.metric(`ledger_credit_utilization_ratio{account="high"}`); got != "0.825" {
		t.Errorf("utilization of high = %q, want 0.825", got)
	}
	if got := e.metric(`ledger_exposure_eur{account="high"}`); got != "0.825" {
		t.Errorf("exposure of high = %q, want 0.825", got)
	}
	if got := e.metric(`ledger_credit_utilization_ratio{account="low"}`); got != "" {
		t.Errorf("low (0.075 %%) is exported: %q", got)
	}
	e.smsBatch("high", 11, 3) // 1.05: suspended
	e.waitUnbilled("high", "1.050000")
	e.eventually(5*time.Second, func() error {
		if got := e.metric(`ledger_account_suspended{account="high"}`); got != "1" {
			return fmt.Errorf("ledger_account_suspended{account=high} = %q, want 1", got)
		}
		return nil
	})
	if got := e.metric(`ledger_accounts{status="suspended",type="postpaid"}`); got != "1" {
		t.Errorf("ledger_accounts suspended postpaid = %q, want 1", got)
	}
}
