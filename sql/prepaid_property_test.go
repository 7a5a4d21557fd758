package sql_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"ledger/ledger"
	"ledger/money"
)

// TestPrepaidProperties drives random top-ups, usage, chargebacks, clock moves and restarts
// against prepaid accounts on a real database, and checks after every step what must hold
// (RULES.md invariant 3 and R9–R11):
//   - each lot: usable or pending + used + expired + charged back = topped up, none below zero,
//     and the journal agrees with the lot rows (CheckInvariants);
//   - each account: what its usage was charged = what the lots paid for it + the open shortfall;
//     what was topped up and charged back is what the test booked;
//   - a lot is pending exactly before 00:00 Amsterdam the day after receipt and expired exactly
//     from its expiry; an open shortfall leaves no usable credit unspent;
//   - an account open has no closure overdue; the credit book agrees with the database.
func TestPrepaidProperties(t *testing.T) {
	dir := memoryDir(t)
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		f := openFixture(rt, filepath.Join(dir, fmt.Sprintf("run-%d.db", runs)))
		defer f.close()
		m := &prepaidModel{f: f, now: at("2026-01-01T09:00:00Z"), toppedUp: map[string]money.Micros{}, chargedBack: map[string]money.Micros{}}
		accounts := []string{"a", "b"}
		for _, a := range accounts {
			f.account(a, "prepaid", "2026-01-01T09:00:00Z")
		}
		pick := rapid.SampledFrom(accounts)
		rt.Repeat(map[string]func(*rapid.T){
			"topup": func(t *rapid.T) {
				account := pick.Draw(t, "account")
				cents := rapid.Int64Range(1, 5000).Draw(t, "cents")
				back := time.Duration(rapid.Int64Range(0, 3*24*60).Draw(t, "minutes_ago")) * time.Minute
				received := maxTime(m.now.Add(-back), at("2026-01-01T09:00:00Z"))
				m.seq++
				id := fmt.Sprintf("t%d", m.seq)
				closed := m.closed(account)
				if closed {
					// A closure for want of a top-up is undone by a top-up received before it.
					v, err := f.store.Account(f.ctx, account)
					if err != nil {
						t.Fatal(err)
					}
					closed = v.ClosedReason == ledger.ClosedChargeback || !received.Before(v.ClosedAt)
				}
				_, err := f.topUp(account, id, money.Micros(cents*10_000).Decimal().StringFixed(2), received.Format(time.RFC3339), m.now.Format(time.RFC3339))
				switch {
				case closed && ledger.ErrorCode(err) != ledger.CodeConflict:
					t.Fatalf("top-up of closed account %s: %v, want a conflict (T&C 3.15)", account, err)
				case !closed && err != nil:
					t.Fatalf("top-up %s of %s: %v", id, account, err)
				case !closed:
					m.toppedUp[account] += money.Micros(cents * 10_000)
				}
			},
			"usage": func(t *rapid.T) {
				account := pick.Draw(t, "account")
				parts := rapid.IntRange(1, 200).Draw(t, "parts")
				back := time.Duration(rapid.Int64Range(0, 2*24*60).Draw(t, "minutes_ago")) * time.Minute
				occurred := maxTime(m.now.Add(-back), at("2026-01-01T09:00:00Z"))
				// R11: traffic of a closed account is refused from its closure on; of before, charged.
				c, _ := f.book.Get(account)
				refused := c.Status == ledger.Closed && !occurred.Before(c.ClosedAt)
				got := f.sms(account, parts, occurred.Format(time.RFC3339), m.now.Format(time.RFC3339))
				if want := map[bool]ledger.Outcome{false: ledger.OutcomeCharged, true: ledger.OutcomeRejected}[refused]; got != want {
					t.Fatalf("usage of %s (closed %v at %s) of %s: %s, want %s", account, c.Status == ledger.Closed, c.ClosedAt, occurred, got, want)
				}
			},
			"chargeback": func(t *rapid.T) {
				account := pick.Draw(t, "account")
				lots := f.prepaid(account).Lots
				if len(lots) == 0 {
					t.Skip("no top-up to charge back")
				}
				lot := rapid.SampledFrom(lots).Draw(t, "lot")
				left := int64(lot.Amount-lot.Reversed) / 10_000
				if left == 0 {
					t.Skip("fully charged back")
				}
				cents := rapid.Int64Range(1, left).Draw(t, "cents")
				m.seq++
				v, _, err := f.chargeback(account, ledger.NewChargeback{ID: fmt.Sprintf("cb%d", m.seq), TopUpID: lot.ID,
					Amount: money.Micros(cents * 10_000).Decimal().StringFixed(2)}, m.now)
				if err != nil {
					t.Fatalf("chargeback of %s: %v", lot.ID, err)
				}
				m.chargedBack[account] += v.Amount
				if usable, pending := f.prepaid(account).Usable, f.prepaid(account).Pending; usable+pending == 0 && !m.closed(account) {
					t.Fatalf("no balance left after a chargeback, yet %s is open (T&C 3.14)", account)
				}
			},
			"advance": func(t *rapid.T) {
				step := time.Duration(rapid.SampledFrom([]int64{1, 60, 6 * 60, 24 * 60, 7 * 24 * 60, 45 * 24 * 60, 120 * 24 * 60}).Draw(t, "minutes")) * time.Minute
				m.now = m.now.Add(step)
				f.runDue(m.now.Format(time.RFC3339))
			},
			"restart": func(t *rapid.T) {
				f.reopen()
			},
			"": func(t *rapid.T) { m.check(t, accounts) },
		})
	})
}

// memoryDir returns a directory in memory (/dev/shm) where there is one, else a temporary one:
// the property explores the rules, not durability, and thousands of commits each syncing to
// disk would make it slow.
func memoryDir(t *testing.T) string {
	if d, err := os.MkdirTemp("/dev/shm", "ledger-test-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

type prepaidModel struct {
	f           *fixture
	now         time.Time
	seq         int
	toppedUp    map[string]money.Micros
	chargedBack map[string]money.Micros // chargeback amounts booked, set off or owed
}

func (m *prepaidModel) closed(account string) bool {
	c, _ := m.f.book.Get(account)
	return c.Status == ledger.Closed
}

func (m *prepaidModel) check(t *rapid.T, accounts []string) {
	f := m.f
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	for _, account := range accounts {
		v := f.prepaid(account)
		var topped, setOff, used, usable, pending money.Micros
		for _, l := range v.Lots {
			lotUsed := l.Amount - l.Remaining - l.Expired - l.ChargedBack
			if l.Remaining < 0 || lotUsed < 0 {
				t.Fatalf("lot %s below zero: %+v (used %s)", l.ID, l, lotUsed)
			}
			topped += l.Amount
			setOff += l.ChargedBack
			used += lotUsed
			switch {
			case !m.now.Before(l.ExpiresAt):
				if l.State != ledger.LotExpired || l.Remaining != 0 {
					t.Fatalf("lot %s at %s: %s with %s left, want expired and empty (expires %s)", l.ID, m.now, l.State, l.Remaining, l.ExpiresAt)
				}
			case m.now.Before(l.UsableFrom):
				if l.State != ledger.LotPending {
					t.Fatalf("lot %s at %s: %s, want pending until %s", l.ID, m.now, l.State, l.UsableFrom)
				}
				pending += l.Remaining
			default:
				if l.State != ledger.LotUsable {
					t.Fatalf("lot %s at %s: %s, want usable from %s", l.ID, m.now, l.State, l.UsableFrom)
				}
				usable += l.Remaining
			}
		}
		if usable != v.Usable || pending != v.Pending {
			t.Fatalf("%s: usable %s pending %s, lots say %s and %s", account, v.Usable, v.Pending, usable, pending)
		}
		if topped != m.toppedUp[account] {
			t.Fatalf("%s: lots hold %s topped up, the test booked %s", account, topped, m.toppedUp[account])
		}
		if setOff+v.ChargebacksOwed != m.chargedBack[account] {
			t.Fatalf("%s: set off %s + owed %s ≠ charged back %s (R10)", account, setOff, v.ChargebacksOwed, m.chargedBack[account])
		}
		_, charged, err := f.store.AccountUsage(f.ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		if charged != used+v.Shortfall {
			t.Fatalf("%s: usage charged %s ≠ paid from lots %s + shortfall %s (R9)", account, charged, used, v.Shortfall)
		}
		if v.Shortfall > 0 && usable > 0 {
			t.Fatalf("%s: a shortfall of %s is open while %s is usable (R9: cleared first)", account, v.Shortfall, usable)
		}
		c, _ := f.book.Get(account)
		if c.Usable != v.Usable || c.Pending != v.Pending || c.Shortfall != v.Shortfall {
			t.Fatalf("%s: credit book %s/%s/%s, database %s/%s/%s", account, c.Usable, c.Pending, c.Shortfall, v.Usable, v.Pending, v.Shortfall)
		}
		status, _ := f.status(account)
		if status != ledger.Closed && !c.ClosureDue.IsZero() && !m.now.Before(c.ClosureDue) {
			t.Fatalf("%s: open at %s though its closure was due at %s (T&C 3.15)", account, m.now, c.ClosureDue)
		}
	}
}
