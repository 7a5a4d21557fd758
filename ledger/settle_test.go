package ledger_test

import (
	"testing"
	"time"

	"ledger/ledger"
	"ledger/money"
)

func charge(account string, occurred time.Time, amount string) ledger.Charge {
	return ledger.Charge{Prepared: &ledger.Prepared{Event: ledger.UsageEvent{Account: account, OccurredAt: occurred}, BaseMicros: eur(amount)}}
}

// usageTx is a usage transaction as a batch plan makes it: revenue, and one entry per customer.
func usageTx(at time.Time, perCustomer map[string]string) ledger.Transaction {
	tx := ledger.Transaction{Kind: ledger.KindUsage, At: at}
	var total money.Micros
	for account, amount := range perCustomer {
		tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: "customer:" + account + ":unbilled", AccountID: account, Amount: eur(amount)})
		total += eur(amount)
	}
	tx.Entries = append(tx.Entries, ledger.Entry{LedgerAccount: "revenue:usage", Amount: -total})
	return tx
}

func entryOf(tx ledger.Transaction, ledgerAccount string) (ledger.Entry, bool) {
	for _, e := range tx.Entries {
		if e.LedgerAccount == ledgerAccount {
			return e, true
		}
	}
	return ledger.Entry{}, false
}

// R9: a prepaid customer's usage is paid from the lots usable at its time, the rest is the
// shortfall; a postpaid customer's stays unbilled usage. The settled transaction balances.
func TestSettlePrepaidUsage(t *testing.T) {
	at := utc("2026-03-05T12:00:00Z")
	p := &ledger.PrepaidCredit{Account: "pre"}
	lot := usable(ledger.NewLot("pre", topUp("a", "3.00", "2026-03-01T10:00:00Z")))
	p.Add(lot)
	credit := func(account string) *ledger.PrepaidCredit {
		if account == "pre" {
			return p
		}
		return nil
	}
	charges := []ledger.Charge{charge("pre", at, "2.00"), charge("post", at, "1.00"), charge("pre", at, "2.00")}
	tx := usageTx(at, map[string]string{"pre": "4.00", "post": "1.00"})
	settled, pre, follow, prepaid := ledger.SettlePrepaidUsage(tx, charges, at, credit)
	if !prepaid || len(pre) != 0 || len(follow) != 0 {
		t.Fatalf("prepaid %v, pre %+v, follow %+v: want settled, nothing before or after", prepaid, pre, follow)
	}
	if err := settled.CheckBalanced(); err != nil {
		t.Fatal(err)
	}
	if _, ok := entryOf(settled, "customer:pre:unbilled"); ok {
		t.Error("a prepaid customer's usage stayed unbilled")
	}
	if e, ok := entryOf(settled, "customer:post:unbilled"); !ok || e.Amount != eur("1.00") {
		t.Errorf("postpaid entry %+v, want 1.00 unbilled", e)
	}
	if e, ok := entryOf(settled, lot.LedgerAccount); !ok || e.Amount != eur("3.00") || e.Events != 2 {
		t.Errorf("lot entry %+v, want 3.00 drawn by 2 events", e)
	}
	if e, ok := entryOf(settled, ledger.CustomerShortfall("pre")); !ok || e.Amount != eur("1.00") || e.Events != 1 {
		t.Errorf("shortfall entry %+v, want 1.00 of 1 event", e)
	}
	if p.Shortfall != eur("1.00") || !p.ZeroSince.Equal(at) {
		t.Errorf("shortfall %s zero since %s; want 1.00, and the balance at zero since %s (T&C 3.15)", p.Shortfall, p.ZeroSince, at)
	}
	if len(tx.Entries) != 3 {
		t.Error("the transaction given was changed")
	}
}

// A late event finds its time's lots spent while a newer lot is usable now: its shortfall is
// set off from that lot at once (R9, T&C 3.10); traffic dated after now is paid from what is
// usable now.
func TestSettlePrepaidUsageSetsOffLateTraffic(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "pre"}
	newer := usable(ledger.NewLot("pre", topUp("b", "10.00", "2026-03-09T10:00:00Z")))
	p.Add(newer)
	at := utc("2026-03-12T12:00:00Z")
	charges := []ledger.Charge{charge("pre", utc("2026-03-05T12:00:00Z"), "2.00"), charge("pre", at.Add(time.Hour), "1.00")}
	settled, _, follow, _ := ledger.SettlePrepaidUsage(usageTx(at, map[string]string{"pre": "3.00"}), charges, at,
		func(string) *ledger.PrepaidCredit { return p })
	if e, ok := entryOf(settled, ledger.CustomerShortfall("pre")); !ok || e.Amount != eur("2.00") {
		t.Fatalf("shortfall entry %+v, want the late event's 2.00", e)
	}
	if e, ok := entryOf(settled, newer.LedgerAccount); !ok || e.Amount != eur("1.00") {
		t.Errorf("lot entry %+v, want 1.00 (the event dated ahead, paid from what is usable now)", e)
	}
	if len(follow) != 1 || follow[0].Kind != ledger.KindPrepaidSetOff {
		t.Fatalf("follow %+v, want one set-off", follow)
	}
	if err := follow[0].CheckBalanced(); err != nil {
		t.Fatal(err)
	}
	if e, _ := entryOf(follow[0], ledger.CustomerShortfall("pre")); e.Amount != eur("-2.00") || p.Shortfall != 0 {
		t.Errorf("set-off %+v, shortfall left %s; want the 2.00 paid", follow[0], p.Shortfall)
	}
}

// R9: traffic of before a lot's expiry, arriving after it, takes back what the expiry
// forfeited: a reversing expiry transaction goes first.
func TestSettlePrepaidUsageReclaims(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "pre"}
	l := usable(ledger.NewLot("pre", topUp("a", "5.00", "2025-03-01T10:00:00Z")))
	p.Add(l)
	p.Expire(0)
	at := l.ExpiresAt.Add(time.Hour)
	settled, pre, _, _ := ledger.SettlePrepaidUsage(usageTx(at, map[string]string{"pre": "2.00"}),
		[]ledger.Charge{charge("pre", l.ExpiresAt.Add(-time.Hour), "2.00")}, at, func(string) *ledger.PrepaidCredit { return p })
	if len(pre) != 1 || pre[0].Kind != ledger.KindExpiry {
		t.Fatalf("pre %+v, want one reversing expiry", pre)
	}
	if err := pre[0].CheckBalanced(); err != nil {
		t.Fatal(err)
	}
	if e, _ := entryOf(pre[0], ledger.RevenuePrepaidExpired); e.Amount != eur("2.00") {
		t.Errorf("expired revenue given back %s, want 2.00", e.Amount)
	}
	if e, _ := entryOf(settled, l.LedgerAccount); e.Amount != eur("2.00") || p.Lots[0].Forfeited != eur("3.00") {
		t.Errorf("lot drawn %s, forfeited left %s; want 2.00 and 3.00", e.Amount, p.Lots[0].Forfeited)
	}
}

// A batch of postpaid customers only is left as it is.
func TestSettlePrepaidUsagePostpaidOnly(t *testing.T) {
	at := utc("2026-03-05T12:00:00Z")
	tx := usageTx(at, map[string]string{"post": "1.00"})
	settled, pre, follow, prepaid := ledger.SettlePrepaidUsage(tx, []ledger.Charge{charge("post", at, "1.00")}, at,
		func(string) *ledger.PrepaidCredit { return nil })
	if prepaid || pre != nil || follow != nil || len(settled.Entries) != len(tx.Entries) {
		t.Errorf("prepaid %v pre %v follow %v entries %d: want the transaction untouched", prepaid, pre, follow, len(settled.Entries))
	}
}

// R9, T&C 3.13: a lot becomes usable at its time, and the shortfall is paid from it first
// (T&C 3.10); at any other time, or twice, the step does nothing.
func TestMakeUsable(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "pre", Shortfall: eur("1.50")}
	l := ledger.NewLot("pre", topUp("a", "10.00", "2026-03-10T10:00:00Z"))
	p.Add(l)
	if _, _, ok := p.MakeUsable("a", l.UsableFrom.Add(-time.Second)); ok {
		t.Fatal("usable before its time")
	}
	got, setOff, ok := p.MakeUsable("a", l.UsableFrom)
	if !ok || got.State != ledger.LotUsable || setOff == nil || setOff.Kind != ledger.KindPrepaidSetOff {
		t.Fatalf("ok %v lot %+v set-off %+v: want usable with the shortfall set off", ok, got, setOff)
	}
	if p.Shortfall != 0 || p.Lots[0].Remaining != eur("8.50") {
		t.Errorf("shortfall %s remaining %s, want 0 and 8.50", p.Shortfall, p.Lots[0].Remaining)
	}
	if _, _, ok := p.MakeUsable("a", l.UsableFrom); ok {
		t.Error("made usable twice")
	}
}

// R9, T&C 3.13: what is left at expiry is forfeited to revenue and kept for late traffic; an
// empty lot just goes.
func TestExpireLot(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "pre", ToppedUp: true}
	full := usable(ledger.NewLot("pre", topUp("full", "4.00", "2025-03-01T10:00:00Z")))
	empty := usable(ledger.NewLot("pre", topUp("empty", "1.00", "2025-03-01T11:00:00Z")))
	empty.Remaining = 0
	p.Add(full)
	p.Add(empty)
	if _, _, _, ok := p.ExpireLot("full", full.ExpiresAt.Add(time.Second)); ok {
		t.Fatal("expired at another time than its expiry")
	}
	_, expiry, kept, ok := p.ExpireLot("full", full.ExpiresAt)
	if !ok || !kept || expiry == nil {
		t.Fatalf("ok %v kept %v expiry %+v: want forfeited and kept", ok, kept, expiry)
	}
	if err := expiry.CheckBalanced(); err != nil {
		t.Fatal(err)
	}
	if e, _ := entryOf(*expiry, ledger.RevenuePrepaidExpired); e.Amount != eur("-4.00") {
		t.Errorf("forfeited revenue %s, want -4.00", e.Amount)
	}
	_, expiry, kept, ok = p.ExpireLot("empty", empty.ExpiresAt)
	if !ok || kept || expiry != nil || p.Lot("empty") >= 0 {
		t.Errorf("ok %v kept %v expiry %+v: want the empty lot removed without a transaction", ok, kept, expiry)
	}
	if p.ZeroSince.IsZero() {
		t.Error("the balance reached zero and ZeroSince was not set (T&C 3.15)")
	}
	p.Forget("full")
	if p.Lot("full") >= 0 {
		t.Error("an expired lot was not forgotten")
	}
}

// Traffic dated after now (a publisher's clock ahead) is paid from what is usable now, not
// from a lot that becomes usable between now and its date.
func TestSettlePrepaidUsageTrafficAhead(t *testing.T) {
	p := &ledger.PrepaidCredit{Account: "pre"}
	l := ledger.NewLot("pre", topUp("c", "10.00", "2026-03-12T10:00:00Z")) // usable from 2026-03-12T23:00Z
	p.Add(l)
	at := utc("2026-03-12T22:30:00Z")
	settled, _, follow, _ := ledger.SettlePrepaidUsage(usageTx(at, map[string]string{"pre": "1.00"}),
		[]ledger.Charge{charge("pre", utc("2026-03-12T23:30:00Z"), "1.00")}, at, func(string) *ledger.PrepaidCredit { return p })
	if _, drawn := entryOf(settled, l.LedgerAccount); drawn || len(follow) != 0 || p.Shortfall != eur("1.00") {
		t.Errorf("entries %+v follow %+v shortfall %s: want 1.00 short, nothing drawn from a lot not usable yet", settled.Entries, follow, p.Shortfall)
	}
}
