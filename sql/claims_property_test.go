package sql_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

// TestClaimsProperties drives random payments, usage and invoices of a postpaid account,
// top-ups and chargebacks of a prepaid one, clock moves, restarts and claims of both on a real
// database, and checks after every claim what must hold (RULES.md invariant 5, R12, R8):
//   - the claim is granted min(asked, what remained), and the cap is what the model says was
//     paid in the 12 months before the FIRST claim's incident (payments, top-ups less what was
//     charged back), at most €50,000 — fixed by that claim whatever is paid or claimed later;
//   - granted total ≤ cap ≤ €50,000, and the store's liability says the same;
//   - the sum granted equals the credits posted: the expense account and each customer's claim
//     credits in its journal;
//   - CheckInvariants passes, and the credit book's exposure is the database's (R4);
//   - no credit is left while an invoice is open: granted credit is set off at once (R8);
//   - a retry of a claim answers what it answered first and books nothing.
func TestClaimsProperties(t *testing.T) {
	dir := memoryDir(t)
	runs := 0
	start := at("2026-01-01T09:00:00Z")
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		f := openFixture(rt, filepath.Join(dir, fmt.Sprintf("claims-%d.db", runs)))
		f.invoicing = true
		f.useInvoicing()
		defer f.close()
		m := &claimsModel{f: f, now: start, accounts: map[string]*claimsAccount{"post": {}, "pre": {}}}
		f.account("post", "postpaid", "2026-01-01T00:00:00Z")
		f.account("pre", "prepaid", "2026-01-01T00:00:00Z")
		pickAccount := rapid.SampledFrom([]string{"post", "pre"})
		// Money in is often large, towards the €50,000 ceiling; a claim seldom, so that most
		// claims are granted something, some in part.
		cents := func(t *rapid.T, label string, largeOften bool) money.Micros {
			c := rapid.Int64Range(1, 200_000).Draw(t, label)
			large := rapid.IntRange(0, 9).Draw(t, label+"_large")
			if (largeOften && large < 4) || large == 9 {
				c = rapid.Int64Range(1_000_000, 3_000_000).Draw(t, label+"_large_cents")
			}
			return money.Micros(c * 10_000)
		}
		rt.Repeat(map[string]func(*rapid.T){
			"pay": func(t *rapid.T) {
				amount := cents(t, "pay_cents", true)
				// Up to 400 days ago: mostly within the window of a recent incident.
				received := m.now.Add(-time.Duration(rapid.Int64Range(0, 400*24*3600).Draw(t, "pay_seconds_ago")) * time.Second)
				m.seq++
				id := fmt.Sprintf("p%d", m.seq)
				if _, _, err := addPayment(f.ctx, f.store, "post", billing.NewPayment{ID: id, Amount: amount, ReceivedAt: received, SEPA: true},
					"test", m.now); err != nil {
					t.Fatalf("payment %s: %v", id, err)
				}
				m.accounts["post"].paid = append(m.accounts["post"].paid, paidModel{at: received, amount: amount})
			},
			"usage": func(t *rapid.T) {
				if got := f.sms("post", rapid.IntRange(1, 10_000).Draw(t, "parts"), m.now.Format(time.RFC3339), m.now.Format(time.RFC3339)); got != ledger.OutcomeCharged {
					t.Fatalf("usage of post: %s", got)
				}
			},
			"topup": func(t *rapid.T) {
				amount := cents(t, "topup_cents", true)
				received := maxTime(m.now.Add(-time.Duration(rapid.Int64Range(0, 10*24*3600).Draw(t, "topup_seconds_ago"))*time.Second), start)
				m.seq++
				id := fmt.Sprintf("t%d", m.seq)
				tu, err := ledger.NewTopUp{ID: id, Amount: amount.Decimal().StringFixed(2), ReceivedAt: received.Format(time.RFC3339Nano),
					Method: "card"}.Validate(m.now)
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = topUp(f.ctx, f.store, "pre", tu, "test", m.now)
				if ledger.ErrorCode(err) == ledger.CodeConflict {
					if v, aerr := f.store.Account(f.ctx, "pre"); aerr == nil && v.Status == ledger.Closed {
						t.Skip("closed: it takes no top-ups (T&C 3.15)")
					}
				}
				if err != nil {
					t.Fatalf("top-up %s: %v", id, err)
				}
				m.accounts["pre"].paid = append(m.accounts["pre"].paid, paidModel{at: received, amount: amount, topUp: id})
			},
			"chargeback": func(t *rapid.T) {
				a := m.accounts["pre"]
				if len(a.paid) == 0 {
					t.Skip("no top-up to charge back")
				}
				i := rapid.IntRange(0, len(a.paid)-1).Draw(t, "topup")
				left := (a.paid[i].amount - a.paid[i].reversed) / 10_000
				if left == 0 {
					t.Skip("fully charged back")
				}
				amount := money.Micros(rapid.Int64Range(1, int64(left)).Draw(t, "chargeback_cents") * 10_000)
				m.seq++
				if _, _, err := f.chargeback("pre", ledger.NewChargeback{ID: fmt.Sprintf("cb%d", m.seq), TopUpID: a.paid[i].topUp,
					Amount: amount.Decimal().StringFixed(2)}, m.now); err != nil {
					t.Fatalf("chargeback of %s: %v", a.paid[i].topUp, err)
				}
				a.paid[i].reversed += amount
			},
			"advance": func(t *rapid.T) {
				m.now = m.now.Add(time.Duration(rapid.Int64Range(1, 120*24*3600).Draw(t, "advance_seconds")) * time.Second)
				f.runDue(m.now.Format(time.RFC3339Nano))
			},
			"restart": func(t *rapid.T) { f.reopen() },
			"claim": func(t *rapid.T) {
				account := pickAccount.Draw(t, "account")
				a := m.accounts[account]
				if !a.fixed && len(a.paid) == 0 && rapid.IntRange(0, 3).Draw(t, "claim_before_any_money") < 3 {
					t.Skip("mostly, the first claim comes after some money")
				}
				m.seq++
				// Mostly a recent incident, after money was received; sometimes one long ago.
				ago := rapid.Int64Range(0, 30*24*3600).Draw(t, "incident_seconds_ago")
				if rapid.IntRange(0, 3).Draw(t, "incident_long_ago") == 3 {
					ago = rapid.Int64Range(0, 400*24*3600).Draw(t, "incident_seconds_long_ago")
				}
				c := ledger.Claim{ID: fmt.Sprintf("c%d", m.seq), Amount: cents(t, "claim_cents", false), Reason: "outage",
					IncidentAt: m.now.Add(-time.Duration(ago) * time.Second)}
				if !a.fixed {
					// The first claim fixes the window and the cap (R12, T&C 8.4).
					from, to := ledger.LiabilityWindow(c.IncidentAt)
					a.fixed, a.firstIncident, a.paid12m = true, c.IncidentAt, 0
					for _, p := range a.paid {
						if !p.at.Before(from) && p.at.Before(to) {
							a.paid12m += p.amount - p.reversed
						}
					}
					a.cap = min(a.paid12m, ledger.MaxLiability)
				}
				wantGranted := min(c.Amount, a.cap-a.granted)
				v, created, err := fileClaim(f.ctx, f.store, account, c, "test", m.now)
				if err != nil || !created {
					t.Fatalf("claim %s of %s: created %v, %v", c.ID, account, created, err)
				}
				a.granted += wantGranted
				if v.Granted != wantGranted || v.Liability.Cap != a.cap || v.Liability.Paid12m != a.paid12m ||
					v.Liability.Granted != a.granted || !v.Liability.FirstIncident.Equal(a.firstIncident) {
					t.Fatalf("claim %s of %s for %s: granted %s, liability %+v; want granted %s, cap %s (paid %s before %s), total %s", c.ID,
						c.Amount, account, v.Granted, v.Liability, wantGranted, a.cap, a.paid12m, a.firstIncident, a.granted)
				}
				if (v.Refusal() != nil) != (wantGranted < c.Amount) {
					t.Fatalf("claim %s of %s granted %s: refusal %v", c.ID, c.Amount, v.Granted, v.Refusal())
				}
				a.claims = append(a.claims, v)
				m.check(t)
			},
			"retry": func(t *rapid.T) {
				account := pickAccount.Draw(t, "account")
				a := m.accounts[account]
				if len(a.claims) == 0 {
					t.Skip("no claim to retry")
				}
				first := a.claims[rapid.IntRange(0, len(a.claims)-1).Draw(t, "claim")]
				v, created, err := fileClaim(f.ctx, f.store, account, first.Claim, "test", m.now)
				if err != nil || created || v.Granted != first.Granted || v.Liability != first.Liability {
					t.Fatalf("retry of claim %s: %+v, created %v, %v; want the first answer %+v", first.ID, v, created, err, first)
				}
				m.check(t)
			},
		})
	})
}

type paidModel struct {
	at               time.Time
	amount, reversed money.Micros // reversed: charged back of a top-up
	topUp            string       // the top-up's id; "" for a payment
}

type claimsAccount struct {
	paid                  []paidModel
	fixed                 bool
	firstIncident         time.Time
	paid12m, cap, granted money.Micros
	claims                []billing.ClaimView
}

type claimsModel struct {
	f        *fixture
	now      time.Time
	seq      int
	accounts map[string]*claimsAccount
}

// check verifies invariant 5 and the claims' credits against the model and the whole database.
func (m *claimsModel) check(t *rapid.T) {
	f := m.f
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	var total money.Micros
	for account, a := range m.accounts {
		l, err := f.store.Liability(f.ctx, account, m.now)
		if err != nil {
			t.Fatal(err)
		}
		if l.Granted < 0 || l.Granted > l.Cap || l.Cap > ledger.MaxLiability || l.Remaining != l.Cap-l.Granted {
			t.Fatalf("%s: invariant 5 broken: %+v", account, l)
		}
		if a.fixed && (l.Cap != a.cap || l.Granted != a.granted || !l.FirstIncident.Equal(a.firstIncident) || l.Claims != len(a.claims)) {
			t.Fatalf("%s: liability %+v; want cap %s, granted %s, first incident %s, %d claims", account, l, a.cap, a.granted, a.firstIncident, len(a.claims))
		}
		if credited := f.claimCredits(account); credited != a.granted {
			t.Fatalf("%s: claims credited %s in the journal, granted %s", account, credited, a.granted)
		}
		total += a.granted
		c, _ := f.book.Get(account)
		exposure := money.Micros(0)
		if account == "post" {
			exposure = f.balance(ledger.CustomerUnbilled(account)) + f.balance(ledger.CustomerReceivable(account)) + f.balance(ledger.CustomerCredit(account))
		}
		if c.Exposure != exposure {
			t.Fatalf("%s: the credit book's exposure %s, the database's %s (R4)", account, c.Exposure, exposure)
		}
		// R8: credit left over means no invoice is open to take it.
		if credit := f.balance(ledger.CustomerCredit(account)); credit < 0 {
			for _, inv := range f.invoices(account) {
				if inv.Outstanding > 0 {
					t.Fatalf("%s: %s of credit not set off against %s, which leaves %s open (R8)", account, -credit, inv.Number, inv.Outstanding)
				}
			}
		}
	}
	if expense := f.balance(ledger.ExpenseLiabilityClaims); expense != total {
		t.Fatalf("expense:liability_claims %s, the claims were granted %s", expense, total)
	}
}
