package ledger

import (
	"time"

	"ledger/money"
)

// SettlePrepaidUsage turns the customer side of a usage transaction into draws on the lots of
// its prepaid customers (R9): each event is paid from the lots usable at its time, the one that
// expires first first; what they cannot cover is the shortfall. The settled transaction keeps
// one entry per lot drawn and per shortfall, as it keeps one per postpaid customer.
//
// credit returns the prepaid credit of a customer to change (nil: postpaid); every credit it
// returns is drawn on and touched (T&C 3.15). at is when the batch is charged: traffic dated
// after it (a publisher's clock ahead) is paid from what is usable at at, not from a lot that
// becomes usable later.
//
// pre goes before the settled transaction: it takes back, from what lot expiries forfeited,
// what late traffic of before the expiry uses. follow goes after it: the set-off of a shortfall
// from lots usable at at (a late event can find its time's lots spent while a newer lot is
// usable, T&C 3.10). prepaid is false, and the transaction unchanged, when the batch charged no
// prepaid customer.
func SettlePrepaidUsage(tx Transaction, charges []Charge, at time.Time, credit func(account string) *PrepaidCredit) (settled Transaction, pre, follow []Transaction, prepaid bool) {
	type key struct {
		p   *PrepaidCredit
		lot int // -1: the shortfall
	}
	var extra []Entry
	index := map[key]int{}
	add := func(k key, ledgerAccount, customer string, amount money.Micros) {
		i, ok := index[k]
		if !ok {
			i = len(extra)
			index[k] = i
			if k.lot < 0 {
				ledgerAccount = CustomerShortfall(customer)
			}
			extra = append(extra, Entry{LedgerAccount: ledgerAccount, AccountID: customer})
		}
		extra[i].Amount += amount
		extra[i].Events++
	}
	credits := map[string]*PrepaidCredit{}
	var order []*PrepaidCredit // as first charged, for a transaction order that does not depend on a map
	var draws []Draw
	var reclaimed []reclaim
	for _, c := range charges {
		account := c.Event.Account
		p, seen := credits[account]
		if !seen {
			p = credit(account)
			credits[account] = p
			if p != nil {
				order = append(order, p)
			}
		}
		if p == nil {
			continue // postpaid
		}
		t := c.Event.OccurredAt
		if t.After(at) {
			t = at
		}
		var short money.Micros
		draws, short = p.Draw(draws[:0], t, c.Total())
		for _, d := range draws {
			add(key{p, d.Lot}, d.LedgerAccount, account, d.Amount)
			if d.Reclaimed {
				reclaimed = append(reclaimed, reclaim{account, d})
			}
		}
		if short > 0 {
			add(key{p, -1}, "", account, short)
		}
	}
	if len(order) == 0 {
		return tx, nil, nil, false
	}
	if len(reclaimed) > 0 {
		pre = []Transaction{reclaimTransaction(reclaimed, at)}
	}
	settled = tx
	settled.Entries = make([]Entry, 0, len(tx.Entries)+len(extra))
	for _, e := range tx.Entries {
		if e.AccountID == "" || credits[e.AccountID] == nil {
			settled.Entries = append(settled.Entries, e) // revenue, and postpaid customers' unbilled usage
		}
	}
	settled.Entries = append(settled.Entries, extra...)
	for _, p := range order {
		if p.Shortfall > 0 {
			if t, ok := PrepaidSetOff(p.Account, p.ClearShortfall(at), at); ok {
				follow = append(follow, t)
			}
		}
		p.Touch(at)
	}
	return settled, pre, follow, true
}

// reclaim is an amount late traffic takes back from what a lot's expiry forfeited.
type reclaim struct {
	account string
	draw    Draw
}

// reclaimTransaction gives back to lots what their expiry forfeited and late traffic of before
// the expiry uses (R9: traffic is paid from the lots usable at its time): it reverses that much
// of the expiries, so that the usage transaction after it draws on the lots as on any other.
func reclaimTransaction(rs []reclaim, at time.Time) Transaction {
	t := Transaction{Kind: KindExpiry, At: at, Memo: "forfeited prepaid credit taken back by traffic of before the expiry (R9)"}
	index := map[string]int{}
	var total money.Micros
	for _, r := range rs {
		i, ok := index[r.draw.LedgerAccount]
		if !ok {
			i = len(t.Entries)
			index[r.draw.LedgerAccount] = i
			t.Entries = append(t.Entries, Entry{LedgerAccount: r.draw.LedgerAccount, AccountID: r.account})
		}
		t.Entries[i].Amount -= r.draw.Amount
		total += r.draw.Amount
	}
	t.Entries = append(t.Entries, Entry{LedgerAccount: RevenuePrepaidExpired, Amount: total})
	return t
}

// PrepaidSetOff pays a shortfall from lots: each lot drawn is debited, the shortfall credited
// (R9, T&C 3.10). ok is false when nothing was drawn.
func PrepaidSetOff(account string, draws []Draw, at time.Time) (t Transaction, ok bool) {
	if len(draws) == 0 {
		return Transaction{}, false
	}
	t = Transaction{Kind: KindPrepaidSetOff, At: at, Memo: "shortfall paid from prepaid credit (R9, T&C 3.10)"}
	var total money.Micros
	for _, d := range draws {
		t.Entries = append(t.Entries, Entry{LedgerAccount: d.LedgerAccount, AccountID: account, Amount: d.Amount})
		total += d.Amount
	}
	t.Entries = append(t.Entries, Entry{LedgerAccount: CustomerShortfall(account), AccountID: account, Amount: -total})
	return t, true
}

// MakeUsable makes a pending lot usable at at, the start of the day after its receipt (R9,
// T&C 3.13), and pays the shortfall from what is now usable (T&C 3.10). ok is false
// when the step no longer applies (the lot is gone, usable already, or due at another time):
// nothing changed. setOff is the set-off transaction, if a shortfall was paid.
func (p *PrepaidCredit) MakeUsable(lot string, at time.Time) (l Lot, setOff *Transaction, ok bool) {
	i := p.Lot(lot)
	if i < 0 || p.Lots[i].State != LotPending || !p.Lots[i].UsableFrom.Equal(at) {
		return Lot{}, nil, false
	}
	p.Lots[i].State = LotUsable
	l = p.Lots[i]
	if t, paid := PrepaidSetOff(p.Account, p.ClearShortfall(at), at); paid {
		setOff = &t
	}
	p.Touch(at)
	return l, setOff, true
}

// ExpireLot expires a lot at its expiry (R9, T&C 3.13: a lot expires 12 months after its
// purchase date): what is left of it is forfeited to revenue by the expiry transaction (nil when
// nothing is left). The lot is kept for ReclaimWindow when it forfeited something (late
// traffic of before the expiry may take it back: kept), else removed. ok is false when the
// step no longer applies: nothing changed.
func (p *PrepaidCredit) ExpireLot(lot string, at time.Time) (l Lot, expiry *Transaction, kept, ok bool) {
	i := p.Lot(lot)
	if i < 0 || p.Lots[i].State == LotExpired || !p.Lots[i].ExpiresAt.Equal(at) {
		return Lot{}, nil, false, false
	}
	l = p.Lots[i]
	if l.Remaining > 0 {
		expiry = &Transaction{Kind: KindExpiry, At: at, Memo: "prepaid lot " + l.ID + " expired (R9, T&C 3.13)",
			Entries: []Entry{
				{LedgerAccount: l.LedgerAccount, AccountID: p.Account, Amount: l.Remaining},
				{LedgerAccount: RevenuePrepaidExpired, Amount: -l.Remaining},
			}}
	}
	p.Expire(i)
	kept = l.Remaining > 0
	if !kept {
		p.Remove(i)
	}
	p.Touch(at)
	return l, expiry, kept, true
}

// Forget removes an expired lot once its reclaim window has passed: late traffic no longer
// takes back from it.
func (p *PrepaidCredit) Forget(lot string) {
	if i := p.Lot(lot); i >= 0 && p.Lots[i].State == LotExpired {
		p.Remove(i)
	}
}
