package ledger_test

import (
	"strings"
	"testing"
	"time"

	"ledger/ledger"
	"ledger/money"
)

func utc(s string) time.Time {
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

// R9, T&C 3.13: usable from 00:00 Amsterdam the day after receipt, expiring 00:00 Amsterdam on
// the same date 12 months later (29 February → 28 February).
func TestLotTimes(t *testing.T) {
	for _, c := range []struct {
		name, received, usable, expires string
	}{
		{"summer_time", "2026-05-04T10:00:00Z", "2026-05-04T22:00:00Z", "2027-05-03T22:00:00Z"},
		{"winter_time", "2026-01-15T12:00:00Z", "2026-01-15T23:00:00Z", "2027-01-14T23:00:00Z"},
		// 23:30 UTC on 14 January is already 15 January in Amsterdam.
		{"late_evening_utc_is_next_day_in_amsterdam", "2026-01-14T23:30:00Z", "2026-01-15T23:00:00Z", "2027-01-14T23:00:00Z"},
		// Received on Saturday 28 March 2026; the clocks go forward in the night of 29 March:
		// usable from 00:00 CET on the 29th, which is still winter time.
		{"before_the_spring_change", "2026-03-28T12:00:00Z", "2026-03-28T23:00:00Z", "2027-03-27T23:00:00Z"},
		// Received on the 29th (the day of the change): usable from 00:00 CEST on the 30th.
		{"on_the_spring_change", "2026-03-29T12:00:00Z", "2026-03-29T22:00:00Z", "2027-03-28T22:00:00Z"},
		// Received on the day the clocks go back (25 October 2026): usable 00:00 CET on the 26th.
		{"on_the_autumn_change", "2026-10-25T12:00:00Z", "2026-10-25T23:00:00Z", "2027-10-24T22:00:00Z"},
		{"leap_day", "2028-02-29T12:00:00Z", "2028-02-29T23:00:00Z", "2029-02-27T23:00:00Z"},
		{"year_end", "2026-12-31T15:00:00Z", "2026-12-31T23:00:00Z", "2027-12-30T23:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			usable, expires := ledger.LotTimes(utc(c.received))
			if !usable.Equal(utc(c.usable)) || !expires.Equal(utc(c.expires)) {
				t.Errorf("received %s: usable %s, expires %s; want %s, %s", c.received, usable.Format(time.RFC3339),
					expires.Format(time.RFC3339), c.usable, c.expires)
			}
		})
	}
}

func topUp(id, amount, received string) ledger.TopUp {
	return ledger.TopUp{ID: id, Amount: eur(amount), ReceivedAt: utc(received), Method: ledger.MethodCard}
}

func usable(l ledger.Lot) ledger.Lot { l.State = ledger.LotUsable; return l }

// R9: a lot pays for traffic of the day after its receipt up to its expiry; a second before
// the expiry it still does.
func TestLotUsableAt(t *testing.T) {
	l := usable(ledger.NewLot("a", topUp("t1", "10.00", "2026-05-04T10:00:00Z")))
	for _, c := range []struct {
		at   string
		want bool
	}{
		{"2026-05-04T21:59:59Z", false}, // the day of receipt, Amsterdam 23:59:59
		{"2026-05-04T22:00:00Z", true},  // 00:00 the next day
		{"2027-05-03T21:59:59Z", true},  // a second before expiry
		{"2027-05-03T22:00:00Z", false}, // expired
	} {
		if got := l.UsableAt(utc(c.at)); got != c.want {
			t.Errorf("usable at %s = %v, want %v", c.at, got, c.want)
		}
	}
}

// R9: usage draws from the lot that expires first among those usable at its time, across lots
// where needed; what they cannot cover is the shortfall, which a lot usable later clears first.
func TestDrawFIFOAndShortfall(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "a"}
	later := usable(ledger.NewLot("a", topUp("later", "5.00", "2026-03-02T10:00:00Z")))
	sooner := usable(ledger.NewLot("a", topUp("sooner", "3.00", "2026-03-01T10:00:00Z")))
	pending := ledger.NewLot("a", topUp("pending", "20.00", "2026-03-10T10:00:00Z"))
	p.Add(later)
	p.Add(pending)
	p.Add(sooner)
	if got := []string{p.Lots[0].ID, p.Lots[1].ID, p.Lots[2].ID}; strings.Join(got, ",") != "sooner,later,pending" {
		t.Fatalf("drawing order %v, want sooner, later, pending", got)
	}
	at := utc("2026-03-05T12:00:00Z")
	draws, short := p.Draw(nil, at, eur("4.50"))
	if len(draws) != 2 || draws[0].LotID != "sooner" || draws[0].Amount != eur("3") || draws[1].LotID != "later" || draws[1].Amount != eur("1.50") || short != 0 {
		t.Fatalf("draws %+v short %s; want 3.00 from sooner and 1.50 from later", draws, short)
	}
	// 3.50 left usable; 5.00 asked: 1.50 short. The pending lot is not touched (not usable at 5 March).
	draws, short = p.Draw(nil, at, eur("5"))
	if len(draws) != 1 || draws[0].LotID != "later" || draws[0].Amount != eur("3.50") || short != eur("1.50") || p.Shortfall != eur("1.50") {
		t.Fatalf("draws %+v short %s shortfall %s; want 3.50 from later, 1.50 short", draws, short, p.Shortfall)
	}
	if u, pe := p.Balance(); u != 0 || pe != eur("20") {
		t.Fatalf("balance usable %s pending %s, want 0 and 20", u, pe)
	}
	// Traffic of 11 March may draw on the lot received on the 10th; the shortfall is cleared first
	// when that lot becomes usable.
	p.Lots[2].State = ledger.LotUsable
	cleared := p.ClearShortfall(utc("2026-03-10T23:00:00Z"))
	if len(cleared) != 1 || cleared[0].LotID != "pending" || cleared[0].Amount != eur("1.50") || p.Shortfall != 0 || p.Lots[2].Remaining != eur("18.50") {
		t.Fatalf("cleared %+v shortfall %s remaining %s; want 1.50 from the new lot", cleared, p.Shortfall, p.Lots[2].Remaining)
	}
}

// R10, T&C 3.14: a chargeback is set off against the reversed lot first, then the others by
// earliest expiry, pending ones included; the rest is owed.
func TestSetOff(t *testing.T) {
	newP := func() *ledger.PrepaidCredit {
		p := &ledger.PrepaidCredit{Account: "a"}
		p.Add(usable(ledger.NewLot("a", topUp("old", "4.00", "2026-01-01T10:00:00Z"))))
		p.Add(usable(ledger.NewLot("a", topUp("card", "10.00", "2026-02-01T10:00:00Z"))))
		p.Add(ledger.NewLot("a", topUp("new", "6.00", "2026-03-01T10:00:00Z")))
		p.Lots[1].Remaining = eur("2.00") // 8.00 of the reversed lot was used
		return p
	}
	p := newP()
	draws, owed := p.SetOff("card", eur("10"))
	want := []ledger.Draw{{LotID: "card", Amount: eur("2")}, {LotID: "old", Amount: eur("4")}, {LotID: "new", Amount: eur("4")}}
	if owed != 0 || len(draws) != 3 {
		t.Fatalf("draws %+v owed %s, want %v and nothing owed", draws, owed, want)
	}
	for i, d := range draws {
		if d.LotID != want[i].LotID || d.Amount != want[i].Amount {
			t.Errorf("draw %d: %s %s, want %s %s", i, d.LotID, d.Amount, want[i].LotID, want[i].Amount)
		}
	}
	if u, pe := p.Balance(); u != 0 || pe != eur("2") {
		t.Errorf("after set-off usable %s pending %s, want 0 and 2", u, pe)
	}
	p = newP()
	if _, owed := p.SetOff("card", eur("10")); owed != 0 {
		t.Fatal(owed)
	}
	if _, owed := p.SetOff("card", eur("5")); owed != eur("3") {
		t.Errorf("second set-off owed %s, want 3.00 (only 2.00 left)", owed)
	}
}

// T&C 3.15: closure 3 months after registration without a top-up, or 3 months after the
// balance reached zero; the last day of the 3 months still counts.
func TestClosureDue(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "a", RegisteredAt: utc("2026-01-15T09:00:00Z")}
	due, reason, ok := p.ClosureDue()
	if !ok || reason != ledger.ClosedNoTopUpAfterRegistration || !due.Equal(utc("2026-04-15T22:00:00Z")) {
		t.Fatalf("never topped up: due %s %s %v; want 2026-04-16 00:00 Amsterdam, %s", due, reason, ok, ledger.ClosedNoTopUpAfterRegistration)
	}
	// Registered on 30 November: the 3 months end on 28 February (clamped); closure on 1 March.
	q := &ledger.PrepaidCredit{Account: "b", RegisteredAt: utc("2026-11-30T12:00:00Z")}
	if due, _, _ := q.ClosureDue(); !due.Equal(utc("2027-02-28T23:00:00Z")) {
		t.Errorf("registered 30 November: closure %s, want 2027-03-01 00:00 Amsterdam", due)
	}
	p.Add(usable(ledger.NewLot("a", topUp("t1", "1.00", "2026-04-15T20:00:00Z")))) // the last allowed day (Amsterdam 22:00)
	p.Touch(utc("2026-04-15T20:00:00Z"))
	if _, _, ok := p.ClosureDue(); ok {
		t.Fatal("a top-up with balance left: no closure due")
	}
	p.Draw(nil, utc("2026-05-01T12:00:00Z"), eur("1"))
	p.Touch(utc("2026-05-01T12:00:00Z"))
	due, reason, ok = p.ClosureDue()
	if !ok || reason != ledger.ClosedNoTopUpAfterDepletion || !due.Equal(utc("2026-08-01T22:00:00Z")) {
		t.Errorf("used up on 1 May: due %s %s %v; want 2026-08-02 00:00 Amsterdam, %s", due, reason, ok, ledger.ClosedNoTopUpAfterDepletion)
	}
	p.Closed = true
	if _, _, ok := p.ClosureDue(); ok {
		t.Error("a closed account is not closed again")
	}
}

func TestNewTopUpValidate(t *testing.T) {
	now := utc("2026-05-04T10:00:00Z")
	ok := ledger.NewTopUp{ID: "t-1", Amount: "25.50", ReceivedAt: "2026-05-04T09:00:00Z", Method: "card"}
	if got, err := ok.Validate(now); err != nil || got.Amount != eur("25.50") || got.Method != "card" {
		t.Fatalf("valid top-up: %+v, %v", got, err)
	}
	if got, err := (ledger.NewTopUp{ID: "t-2", Amount: "10"}).Validate(now); err != nil || !got.ReceivedAt.Equal(now) || got.Method != "bank" {
		t.Errorf("defaults: %+v, %v; want received now, by bank", got, err)
	}
	for name, n := range map[string]ledger.NewTopUp{
		"no id":             {Amount: "10"},
		"id with a space":   {ID: "a b", Amount: "10"},
		"zero":              {ID: "t", Amount: "0"},
		"negative":          {ID: "t", Amount: "-5"},
		"fractions of cent": {ID: "t", Amount: "1.005"},
		"not a number":      {ID: "t", Amount: "ten"},
		"too large":         {ID: "t", Amount: "1000000"},
		"unknown method":    {ID: "t", Amount: "10", Method: "cash"},
		"bad time":          {ID: "t", Amount: "10", ReceivedAt: "yesterday"},
		"in the future":     {ID: "t", Amount: "10", ReceivedAt: "2026-05-04T10:00:01Z"},
	} {
		if _, err := n.Validate(now); ledger.ErrorCode(err) != ledger.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// R9, T&C 3.12: a prepaid account may send only what its usable balance covers, and nothing
// while a shortfall is open.
func TestAuthorizePrepaid(t *testing.T) {
	c := ledger.Credit{Account: "a", Type: ledger.Prepaid, Status: ledger.Active, Usable: eur("1.00")}
	if d := ledger.Authorize(c, true, eur("1.00")); !d.Allowed {
		t.Errorf("estimate equal to the usable balance: %+v, want allowed", d)
	}
	if d := ledger.Authorize(c, true, eur("1.000001")); d.Allowed || d.Reason != ledger.ReasonInsufficientBalance {
		t.Errorf("estimate above the usable balance: %+v, want insufficient_balance", d)
	}
	c.Shortfall = 1
	if d := ledger.Authorize(c, true, 0); d.Allowed || d.Reason != ledger.ReasonInsufficientBalance {
		t.Errorf("open shortfall: %+v, want insufficient_balance", d)
	}
	c.Status = ledger.Closed
	if d := ledger.Authorize(c, true, 0); d.Allowed || d.Reason != ledger.ReasonClosed {
		t.Errorf("closed: %+v, want closed", d)
	}
}

func TestNewChargebackValidate(t *testing.T) {
	now := utc("2026-05-04T10:00:00Z")
	c, err := ledger.NewChargeback{ID: "cb-1", TopUpID: "t-1", Amount: "10.00"}.Validate(now)
	if err != nil || c.Amount != eur("10") || !c.At.Equal(now) {
		t.Fatalf("valid chargeback: %+v, %v; want 10.00 at now", c, err)
	}
	for name, n := range map[string]ledger.NewChargeback{
		"no id":         {TopUpID: "t", Amount: "1"},
		"no top-up":     {ID: "c", Amount: "1"},
		"zero":          {ID: "c", TopUpID: "t", Amount: "0"},
		"bad time":      {ID: "c", TopUpID: "t", Amount: "1", At: "today"},
		"in the future": {ID: "c", TopUpID: "t", Amount: "1", At: "2026-05-04T10:00:01Z"},
	} {
		if _, err := n.Validate(now); ledger.ErrorCode(err) != ledger.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestTakesTopUp(t *testing.T) {
	closedAt := time.Date(2026, 6, 1, 22, 0, 0, 0, time.UTC)
	before, after := closedAt.Add(-time.Hour), closedAt.Add(time.Hour)
	for _, c := range []struct {
		name     string
		reason   string
		received time.Time
		reopen   bool
		clause   string // "" = taken
	}{
		{"T&C_3.15_idle_closure_money_in_time_reopens", ledger.ClosedNoTopUpAfterDepletion, before, true, ""},
		{"T&C_3.15_idle_closure_money_too_late", ledger.ClosedNoTopUpAfterRegistration, after, false, "T&C 3.15"},
		{"R10_closed_by_chargeback_takes_none", ledger.ClosedChargeback, before, false, "T&C 3.15"},
		{"R13_terminated_takes_none_even_money_from_before", ledger.ClosedTerminated, before, false, "T&C 10.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &ledger.PrepaidCredit{Account: "pre", Closed: true, ClosedAt: closedAt, ClosedReason: c.reason}
			reopen, err := ledger.TakesTopUp(p, c.received)
			e, _ := err.(*ledger.Error)
			switch {
			case c.clause == "" && (err != nil || reopen != c.reopen):
				t.Fatalf("TakesTopUp = %v, %v; want reopen %v", reopen, err, c.reopen)
			case c.clause != "" && (e == nil || e.Code != ledger.CodeConflict || e.Clause != c.clause || reopen):
				t.Fatalf("TakesTopUp = %v, %v; want a conflict citing %s", reopen, err, c.clause)
			}
		})
	}
	if reopen, err := ledger.TakesTopUp(&ledger.PrepaidCredit{Account: "pre"}, before); reopen || err != nil {
		t.Errorf("an open account: %v, %v; want taken as it is", reopen, err)
	}
}

func TestRequirePrepaid(t *testing.T) {
	if err := ledger.RequirePrepaid("pre", ledger.Prepaid, "top-ups"); err != nil {
		t.Errorf("prepaid: %v", err)
	}
	err := ledger.RequirePrepaid("acme", ledger.Postpaid, "top-ups")
	if e, ok := err.(*ledger.Error); !ok || e.Code != ledger.CodeConflict || e.Clause != "T&C 3.12" || !strings.Contains(e.Message, "top-ups apply to prepaid accounts") {
		t.Errorf("postpaid: %v; want a conflict citing T&C 3.12", err)
	}
}
