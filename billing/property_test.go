package billing_test

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

// Issue 14: no sequence of writes and events breaks the invariants. Random sequences of every
// use case — accounts, usage (duplicates, absurd quantities, unknown accounts, late and future
// times), top-ups, chargebacks, payments, disputes, claims, limits, termination, replays, the
// clock running billing runs and the due jobs — on the real store (SQLite, and PostgreSQL with
// LEDGER_TEST_POSTGRES). Each operation is accepted or refused by a rule (a *ledger.Error);
// anything else is a bug, and after every sequence the database is checked against every
// invariant (CheckInvariants, run by newBooks' cleanup and here).
func TestProperty_random_operations_keep_the_invariants(t *testing.T) {
	seen := map[string]int{}
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed_", seed), func(t *testing.T) {
			for k, n := range randomOperations(t, seed, 120) {
				seen[k] += n
			}
		})
	}
	// Over all seeds, every kind of operation is accepted at least once.
	for _, kind := range []string{"open", "charge", "top", "chargeback", "pay", "dispute", "claim", "limit", "clock", "terminate"} {
		if seen[strings.Fields(kind)[0]] == 0 {
			t.Errorf("no %s accepted in any sequence", kind)
		}
	}
}

func randomOperations(t *testing.T, seed int64, steps int) map[string]int {
	rng := rand.New(rand.NewSource(seed))
	b := newBooks(t, "2026-03-02T09:00:00Z")
	accounts := []string{"a0", "a1", "a2", "a3", "a4"}
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	amount := func() string {
		return []string{"0.01", "5.00", "25.50", "120.00", "999999.99", "1000000", "-1", "1.001"}[rng.Intn(8)]
	}
	event := 0
	var log []string
	accepted, refused := map[string]int{}, map[string]int{}
	for step := 0; step < steps; step++ {
		now := b.clock.Now()
		var op string
		var err error
		switch rng.Intn(13) {
		case 0, 1:
			id, kind := pick(accounts), []string{"postpaid", "prepaid"}[rng.Intn(2)]
			op = "open " + id + " " + kind
			limit := amount()
			_, _, err = b.uses.CreateAccount(b.ctx, ledger.NewAccount{ID: id, Name: "N " + id, Type: kind, Country: "NL", CreditLimit: &limit}, "p")
		case 2, 3, 4:
			n := 1 + rng.Intn(20)
			ds := make([]ledger.Delivery, n)
			for i := range ds {
				account, q := pick(accounts), int64(rng.Intn(5))
				if rng.Intn(15) == 0 {
					q = 2_000_000_000 // absurd
				}
				if rng.Intn(4) > 0 {
					event++
				}
				occurred := now.Add(-time.Duration(rng.Intn(72)) * time.Hour).Add(time.Duration(rng.Intn(3)) * time.Hour)
				channel, dest := "sms", "+31612345678"
				if rng.Intn(3) == 0 {
					channel, dest = "voice", "+4915112345678"
				}
				ds[i] = ledger.Delivery{Subject: "usage." + channel + "." + account, Data: fmt.Appendf(nil,
					`{"id":"e-%d","account":%q,"channel":%q,"destination":%q,"quantity":%d,"caller_id":"+31201234567","occurred_at":%q}`,
					event, account, channel, dest, q, occurred.Format(time.RFC3339))}
			}
			op = fmt.Sprintf("charge %d events", n)
			pb, perr := b.uses.Charging.Prepare(ds)
			if err = perr; err == nil {
				_, err = b.uses.Charging.Commit(b.ctx, pb)
			}
		case 5:
			account := pick(accounts)
			op = "top up " + account
			top, verr := ledger.NewTopUp{ID: fmt.Sprint("t-", step), Amount: []string{"5.00", "25.50", "120.00", amount()}[rng.Intn(4)], Method: "card",
				ReceivedAt: now.Add(-time.Duration(rng.Intn(48)) * time.Hour).Format(time.RFC3339)}.Validate(now)
			if err = verr; err == nil {
				_, _, err = b.uses.BookTopUp(b.ctx, account, top, "p")
			}
		case 6:
			account := pick(accounts)
			lots, _ := b.uses.Lots.Lots(b.ctx, account)
			if len(lots) == 0 {
				continue
			}
			op = "chargeback on " + account
			_, _, err = b.uses.Chargeback(b.ctx, account, ledger.NewChargeback{ID: fmt.Sprint("cb-", step),
				TopUpID: lots[rng.Intn(len(lots))].ID, Amount: []string{"0.01", "5.00", amount()}[rng.Intn(3)]}, "p")
		case 7:
			account := pick(accounts)
			op = "pay " + account
			m, perr := ledger.ParseAmount("amount", amount())
			if err = perr; err == nil {
				_, _, err = b.uses.AddPayment(b.ctx, account, billing.NewPayment{ID: fmt.Sprint("p-", step), Amount: m, SEPA: true}, "p")
			}
		case 8:
			list, lerr := b.uses.Receivables.Invoices(b.ctx, billing.InvoiceFilter{}, "", 100)
			if lerr != nil || len(list) == 0 {
				continue
			}
			inv := list[rng.Intn(len(list))]
			op = "dispute " + inv.Number
			m := money.Micros(rng.Int63n(int64(money.MustMicros(inv.Total))+1)) / 10_000 * 10_000
			var d billing.DisputeView
			if d, _, err = b.uses.OpenDispute(b.ctx, inv.Number, billing.NewDispute{ID: fmt.Sprint("d-", step), Amount: m, Reason: "why"}); err == nil {
				_, err = b.uses.ResolveDispute(b.ctx, d.ID, []string{ledger.DisputeAccepted, ledger.DisputeRejected}[rng.Intn(2)], "p")
			}
		case 9:
			account := pick(accounts)
			op = "claim on " + account
			m, perr := ledger.ParseAmount("amount", amount())
			if err = perr; err == nil {
				_, _, err = b.uses.FileClaim(b.ctx, account, ledger.Claim{ID: fmt.Sprint("c-", step), Amount: m,
					IncidentAt: now.Add(-time.Hour), Reason: "outage"}, "p")
			}
		case 10:
			account := pick(accounts)
			op = "limit of " + account
			d, _ := decimal.NewFromString(amount())
			_, err = b.uses.SetCreditLimit(b.ctx, account, d, "p")
		case 11:
			op = "clock"
			err = b.uses.SetClock(b.ctx, now.Add(time.Duration(1+rng.Intn(20*24))*time.Hour))
			if rng.Intn(3) == 0 {
				_, err2 := b.uses.Charging.Replay(b.ctx, "")
				err = errors.Join(err, err2)
			}
		case 12:
			if rng.Intn(4) > 0 {
				continue // termination is rare: it ends an account for good
			}
			account := pick(accounts)
			op = "terminate " + account
			err = b.uses.Terminate(b.ctx, account, now, "p")
		}
		log = append(log, op)
		var decided *ledger.Error
		if err != nil && !errors.As(err, &decided) {
			t.Fatalf("seed %d step %d, %s: %v (not a rule's refusal)\nsteps: %v", seed, step, op, err, log)
		}
		kind := strings.Fields(op)[0]
		if err == nil {
			accepted[kind]++
		} else {
			refused[kind]++
		}
	}
	charged, _, err := b.store.UsageTotals(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: accepted %v, refused %v, %d charges", seed, accepted, refused, charged)
	for _, kind := range []string{"open", "charge", "clock"} {
		if accepted[kind] == 0 {
			t.Errorf("seed %d: no %s accepted: the sequence proves little", seed, kind)
		}
	}
	if err := b.store.CheckInvariants(b.ctx); err != nil {
		t.Fatalf("seed %d: invariants broken after %v:\n%v", seed, log, err)
	}
	return accepted
}
