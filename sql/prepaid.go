package sql

import (
	"container/heap"
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
)

// prepaidState is the writer's picture of prepaid accounts (guarded by writeMu): for each
// account a slot holding its committed credit — live lots, shortfall, closure facts — and,
// during a transaction, the copy being changed; and the queue of what falls due on the clock
// (lots becoming usable, expiring; closures). Charging draws on it inside the batch's
// transaction without reading the database. The credit book reads the same slots.
type prepaidState struct {
	slots   map[string]*ledger.PrepaidSlot
	staged  []*ledger.PrepaidSlot // the slots changed in the transaction in progress
	newLots []newLot              // lots created in the transaction in progress
	due     dueQueue
}

type newLot struct {
	account string
	lot     ledger.Lot
}

func (s *Store) resetStagedPrepaid() {
	for _, slot := range s.prepaid.staged {
		slot.Staged = nil
	}
	s.prepaid.staged = s.prepaid.staged[:0]
	s.prepaid.newLots = s.prepaid.newLots[:0]
}

// stage returns the account's prepaid credit to change in the transaction in progress (a copy,
// installed when it commits), or nil when the account is not prepaid.
func (s *Store) stage(account string) *ledger.PrepaidCredit {
	slot := s.prepaid.slots[account]
	if slot == nil {
		return nil
	}
	return s.stageSlot(slot)
}

func (s *Store) stageSlot(slot *ledger.PrepaidSlot) *ledger.PrepaidCredit {
	if slot.Staged == nil {
		slot.Staged = slot.Load().Clone()
		s.prepaid.staged = append(s.prepaid.staged, slot)
	}
	return slot.Staged
}

// flushPrepaid writes, before the commit, what the staged accounts changed that is stored on
// the account row (T&C 3.15: when the balance reached zero).
func (s *Store) flushPrepaid(ctx context.Context) error {
	for _, slot := range s.prepaid.staged {
		p := slot.Staged
		if slot.Load().ZeroSince.Equal(p.ZeroSince) {
			continue
		}
		var zero any
		if !p.ZeroSince.IsZero() {
			zero = fmtTime(p.ZeroSince)
		}
		if _, err := s.stmts["setZeroSince"].ExecContext(ctx, zero, p.Account); err != nil {
			return fmt.Errorf("prepaid balance of %s: %w", p.Account, err)
		}
	}
	return nil
}

// commitPrepaid installs the staged accounts once their transaction committed — the credit
// book reads the same slots — and queues what they now have falling due.
func (s *Store) commitPrepaid() {
	for _, n := range s.prepaid.newLots {
		heap.Push(&s.prepaid.due, dueItem{at: n.lot.UsableFrom, kind: dueUsable, account: n.account, lot: n.lot.ID})
		heap.Push(&s.prepaid.due, dueItem{at: n.lot.ExpiresAt, kind: dueExpiry, account: n.account, lot: n.lot.ID})
	}
	for _, slot := range s.prepaid.staged {
		p, before := slot.Staged, slot.Load()
		slot.Store(p)
		if due, _, ok := p.ClosureDue(); ok {
			if was, _, wasOK := before.ClosureDue(); !wasOK || !was.Equal(due) {
				heap.Push(&s.prepaid.due, dueItem{at: due, kind: dueClosure, account: p.Account})
			}
		}
		if p.Closed != before.Closed && s.credit != nil {
			s.credit.MarkClosed(p.Account, p.ClosedAt)
		}
	}
	s.resetStagedPrepaid()
}

// learnPrepaid registers a new prepaid account once its transaction commits.
func (s *Store) learnPrepaid(a ledger.Account) {
	if a.Type != ledger.Prepaid {
		return
	}
	p := &ledger.PrepaidCredit{Account: a.ID, RegisteredAt: a.RegisteredAt, Closed: a.Status == ledger.Closed}
	s.onCommit(func() {
		slot := ledger.NewPrepaidSlot(p)
		s.prepaid.slots[a.ID] = slot
		if due, _, ok := p.ClosureDue(); ok {
			heap.Push(&s.prepaid.due, dueItem{at: due, kind: dueClosure, account: a.ID})
		}
		if s.credit != nil {
			s.credit.AddPrepaid(slot)
		}
	})
}

// loadPrepaid reads every prepaid account's live lots, shortfall and closure facts (at Open).
func (s *Store) loadPrepaid(ctx context.Context) error {
	accounts := map[string]*ledger.PrepaidCredit{}
	s.prepaid.due = nil
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.registered_at, a.status, a.prepaid_zero_since,
		EXISTS (SELECT 1 FROM prepaid_lots l WHERE l.account_id = a.id),
		coalesce((SELECT balance_micros FROM ledger_accounts WHERE name = 'customer:' || a.id || ':shortfall'), 0),
		a.closed_at, a.closed_reason
		FROM accounts a WHERE a.type = 'prepaid'`)
	if err != nil {
		return fmt.Errorf("read prepaid accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, registered, status string
		var zero, closedAt instant
		p := &ledger.PrepaidCredit{}
		if err := rows.Scan(&id, &registered, &status, &zero, &p.ToppedUp, &p.Shortfall, &closedAt, &p.ClosedReason); err != nil {
			return fmt.Errorf("account %s: %w", id, err)
		}
		p.ClosedAt, p.ZeroSince = closedAt.Time, zero.Time
		p.Account, p.Closed = id, status == string(ledger.Closed)
		if p.RegisteredAt, err = parseTime(registered); err != nil {
			return fmt.Errorf("account %s registered_at: %w", id, err)
		}
		accounts[id] = p
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Live lots, and lots expired within the reclaim window with something forfeited (measured
	// from the test clock when one was set: it may stand anywhere).
	cutoff := time.Now()
	if tc, ok, err := s.TestClock(ctx); err != nil {
		return err
	} else if ok {
		cutoff = tc
	}
	lots, err := s.queryLots(ctx, `WHERE l.state != 'expired' OR (l.expired_micros > 0 AND l.expires_at > ?) ORDER BY l.seq`,
		fmtTime(cutoff.Add(-ledger.ReclaimWindow)))
	if err != nil {
		return err
	}
	for _, v := range lots {
		p := accounts[v.Account]
		if p == nil {
			return fmt.Errorf("lot %s belongs to %s, which is not a prepaid account", v.ID, v.Account)
		}
		if v.State == ledger.LotExpired {
			v.Lot.Forfeited = v.Expired
			p.Add(v.Lot)
			s.prepaid.due = append(s.prepaid.due, dueItem{at: v.ExpiresAt.Add(ledger.ReclaimWindow), kind: dueForget, account: v.Account, lot: v.ID})
			continue
		}
		p.Add(v.Lot)
		if v.State == ledger.LotPending {
			s.prepaid.due = append(s.prepaid.due, dueItem{at: v.UsableFrom, kind: dueUsable, account: v.Account, lot: v.ID})
		}
		s.prepaid.due = append(s.prepaid.due, dueItem{at: v.ExpiresAt, kind: dueExpiry, account: v.Account, lot: v.ID})
	}
	s.prepaid.slots = make(map[string]*ledger.PrepaidSlot, len(accounts))
	for id, p := range accounts {
		s.prepaid.slots[id] = ledger.NewPrepaidSlot(p)
		if due, _, ok := p.ClosureDue(); ok {
			s.prepaid.due = append(s.prepaid.due, dueItem{at: due, kind: dueClosure, account: id})
		}
	}
	heap.Init(&s.prepaid.due)
	return nil
}

// settlePrepaid settles the usage transaction of a batch on its prepaid customers' lots
// (ledger.SettlePrepaidUsage), each account's credit staged for the transaction in progress. It
// returns the transactions that go before and after the usage transaction.
func (s *Store) settlePrepaid(pb *billing.PlannedBatch) (pre, follow []ledger.Transaction) {
	tx := pb.Plan.Transaction
	if tx == nil || len(s.prepaid.slots) == 0 {
		return nil, nil
	}
	settled, pre, follow, prepaid := ledger.SettlePrepaidUsage(*tx, pb.Plan.Charges, pb.At, s.stage)
	if prepaid {
		pb.Plan.Transaction = &settled
	}
	return pre, follow
}

// What falls due on the clock.
type dueKind uint8

const (
	dueUsable  dueKind = iota // a lot becomes usable (00:00 Amsterdam the day after receipt)
	dueExpiry                 // a lot expires
	dueClosure                // an account is closed for want of a top-up (T&C 3.15)
	dueForget                 // an expired lot leaves memory: late traffic no longer takes back from it
)

type dueItem struct {
	at      time.Time
	kind    dueKind
	account string
	lot     string
}

// dueQueue is a min-heap by time, then kind: at the same instant lots become usable before
// others expire, and closures come last.
type dueQueue []dueItem

func (q dueQueue) Len() int { return len(q) }
func (q dueQueue) Less(i, j int) bool {
	if c := q[i].at.Compare(q[j].at); c != 0 {
		return c < 0
	}
	return q[i].kind < q[j].kind
}
func (q dueQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)   { *q = append(*q, x.(dueItem)) }
func (q *dueQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// MaxDuePerTransaction bounds what one transaction of RunDue does.
const MaxDuePerTransaction = 500

// RunPrepaidDue does, in time order, what of prepaid credit has fallen due up to now: lots
// becoming usable (clearing any shortfall first), lots expiring (forfeiting what is left),
// prepaid accounts closed for want of a top-up. Each runs at its own instant, whenever it is
// called — on time, or catching up after downtime; what falls due at one instant is one
// transaction. It returns how many items ran.
func (s *Store) RunPrepaidDue(ctx context.Context, now time.Time) (int, error) {
	ran := 0
	for {
		s.writeMu.Lock()
		if len(s.prepaid.due) == 0 || s.prepaid.due[0].at.After(now) {
			s.writeMu.Unlock()
			return ran, nil
		}
		// The items are taken inside the transaction, after the cluster's fence: another
		// instance's top-up may have put an earlier one in the queue (cluster.go).
		var items []dueItem
		err := s.inWriteLocked(ctx, func() error {
			for len(s.prepaid.due) > 0 && len(items) < MaxDuePerTransaction && !s.prepaid.due[0].at.After(now) &&
				(len(items) == 0 || s.prepaid.due[0].at.Equal(items[0].at)) {
				items = append(items, heap.Pop(&s.prepaid.due).(dueItem))
			}
			if len(items) == 0 {
				return errNothingDue // rolled back: nothing was written
			}
			for _, it := range items {
				if err := s.runDue(ctx, it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			for _, it := range items {
				heap.Push(&s.prepaid.due, it)
			}
		}
		s.writeMu.Unlock()
		if errors.Is(err, errNothingDue) {
			return ran, nil
		}
		if err != nil {
			return ran, err
		}
		ran += len(items)
	}
}

// errNothingDue ends RunPrepaidDue's transaction when, read again, nothing is due after all.
var errNothingDue = errors.New("nothing due")

// runDue does one item, if it still applies (the queue keeps stale items; they are skipped).
func (s *Store) runDue(ctx context.Context, it dueItem) error {
	p := s.stage(it.account)
	if p == nil {
		return nil
	}
	// A closed account's lots still follow the calendar (they hold nothing: an account is closed
	// only when its balance is zero); only its closure is not due again.
	at, now := it.at, fmtTime(it.at)
	switch it.kind {
	case dueUsable:
		l, setOff, ok := p.MakeUsable(it.lot, at)
		if !ok {
			return nil
		}
		if _, err := s.stmts["setLotState"].ExecContext(ctx, string(ledger.LotUsable), 0, l.ID); err != nil {
			return fmt.Errorf("lot %s: %w", l.ID, err)
		}
		if err := s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectPrepaidUsable, it.account, at, map[string]any{
			"topup_id": l.ID, "amount": l.Remaining.String()}), now); err != nil {
			return err
		}
		if setOff != nil {
			if _, err := s.postTransaction(ctx, *setOff, "clock"); err != nil {
				return err
			}
		}
	case dueExpiry:
		l, expiry, kept, ok := p.ExpireLot(it.lot, at)
		if !ok {
			return nil
		}
		if expiry != nil {
			if _, err := s.postTransaction(ctx, *expiry, "clock"); err != nil {
				return err
			}
		}
		if _, err := s.stmts["setLotState"].ExecContext(ctx, string(ledger.LotExpired), int64(l.Remaining), l.ID); err != nil {
			return fmt.Errorf("lot %s: %w", l.ID, err)
		}
		if err := s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectPrepaidExpired, it.account, at, map[string]any{
			"topup_id": l.ID, "amount": l.Remaining.String()}), now); err != nil {
			return err
		}
		if kept {
			heap.Push(&s.prepaid.due, dueItem{at: at.Add(ledger.ReclaimWindow), kind: dueForget, account: it.account, lot: l.ID})
		}
	case dueForget:
		p.Forget(it.lot)
	case dueClosure:
		due, reason, ok := p.ClosureDue()
		if !ok || !due.Equal(at) {
			return nil
		}
		return s.closePrepaid(ctx, p, reason, at)
	}
	return nil
}

// closePrepaid closes a prepaid account (T&C 3.14, 3.15): its traffic is parked from now on and
// it takes no top-ups.
func (s *Store) closePrepaid(ctx context.Context, p *ledger.PrepaidCredit, reason string, at time.Time) error {
	p.Closed, p.ClosedAt, p.ClosedReason = true, at, reason
	now := fmtTime(at)
	if _, err := s.stmts["closeAccount"].ExecContext(ctx, now, reason, p.Account); err != nil {
		return fmt.Errorf("close %s: %w", p.Account, err)
	}
	return s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectAccountClosed, p.Account, at, map[string]any{"reason": reason}), now)
}

// reopenPrepaid undoes a closure for want of a top-up when a top-up received before it is
// booked (T&C 3.15), with billing.account.reopened. Traffic parked as account_closed meanwhile
// stays parked until replayed (POST /v1/rejected/replay).
func (s *Store) reopenPrepaid(ctx context.Context, p *ledger.PrepaidCredit, t ledger.TopUp, now time.Time) error {
	closedAt := p.ClosedAt
	p.Closed, p.ClosedAt, p.ClosedReason = false, time.Time{}, ""
	if _, err := s.write.ExecContext(ctx, `UPDATE accounts SET status = 'active', closed_at = NULL, closed_reason = '' WHERE id = ?`, p.Account); err != nil {
		return fmt.Errorf("reopen %s: %w", p.Account, err)
	}
	return s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectAccountReopened, p.Account, now, map[string]any{
		"reason": ledger.ReopenedTopUpBeforeClosure, "topup_id": t.ID, "received_at": t.ReceivedAt.Format(time.RFC3339Nano),
		"closed_at": closedAt.Format(time.RFC3339Nano)}), fmtTime(now))
}

const lotSelect = `SELECT l.seq, l.id, l.account_id, l.method, l.amount_micros, -la.balance_micros,
	coalesce((SELECT sum(c.amount_micros) FROM chargebacks c WHERE c.topup_id = l.id), 0),
	l.charged_back_micros, l.expired_micros, l.received_at, l.usable_from, l.expires_at, l.state, la.name,
	l.created_at, l.created_by
	FROM prepaid_lots l JOIN ledger_accounts la ON la.id = l.ledger_account_id `

func (s *Store) queryLots(ctx context.Context, where string, args ...any) ([]billing.LotView, error) {
	rows, err := s.db.QueryContext(ctx, lotSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read lots: %w", err)
	}
	defer rows.Close()
	var out []billing.LotView
	for rows.Next() {
		var v billing.LotView
		var received, usable, expires, state, created string
		if err := rows.Scan(&v.Seq, &v.ID, &v.Account, &v.Method, &v.Amount, &v.Remaining, &v.Reversed, &v.ChargedBack,
			&v.Expired, &received, &usable, &expires, &state, &v.LedgerAccount, &created, &v.CreatedBy); err != nil {
			return nil, err
		}
		v.State = ledger.LotState(state)
		for _, f := range []struct {
			s string
			t *time.Time
		}{{received, &v.ReceivedAt}, {usable, &v.UsableFrom}, {expires, &v.ExpiresAt}, {created, &v.CreatedAt}} {
			if *f.t, err = parseTime(f.s); err != nil {
				return nil, fmt.Errorf("lot %s: %w", v.ID, err)
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Lots lists an account's lots, oldest first, expired ones included.
func (s *Store) Lots(ctx context.Context, account string) ([]billing.LotView, error) {
	return s.queryLots(ctx, `WHERE l.account_id = ? ORDER BY l.seq`, account)
}

// Lot reads one lot by its top-up id; ledger.CodeNotFound when there is none.
func (s *Store) Lot(ctx context.Context, id string) (billing.LotView, error) {
	lots, err := s.queryLots(ctx, `WHERE l.id = ?`, id)
	if err != nil {
		return billing.LotView{}, err
	}
	if len(lots) == 0 {
		return billing.LotView{}, ledger.Errorf(ledger.CodeNotFound, "top-up %q does not exist", id)
	}
	return lots[0], nil
}

// Prepaid reads an account's prepaid balances and lots.
func (s *Store) Prepaid(ctx context.Context, account string) (billing.PrepaidView, error) {
	var v billing.PrepaidView
	var err error
	if v.Lots, err = s.Lots(ctx, account); err != nil {
		return v, err
	}
	for _, l := range v.Lots {
		switch l.State {
		case ledger.LotUsable:
			v.Usable += l.Remaining
		case ledger.LotPending:
			v.Pending += l.Remaining
		}
	}
	err = s.db.QueryRowContext(ctx, `SELECT
		coalesce((SELECT balance_micros FROM ledger_accounts WHERE name = ?), 0),
		coalesce((SELECT balance_micros FROM ledger_accounts WHERE name = ?), 0)`,
		ledger.CustomerShortfall(account), ledger.CustomerChargebacks(account)).Scan(&v.Shortfall, &v.ChargebacksOwed)
	return v, err
}

// WithLots runs fn in one write transaction, under the writer's lock (billing.LotStore).
func (s *Store) WithLots(ctx context.Context, fn func(tx billing.LotTx) error) error {
	return s.inWrite(ctx, func() error { return fn(writeTx{s, ctx}) })
}

func (t writeTx) LotExists(id string) (bool, error) {
	return t.exists(`SELECT count(*) FROM prepaid_lots WHERE id = ?`, id)
}

// Prepaid is a prepaid account's staged credit; nil for a postpaid one, with its type.
func (t writeTx) Prepaid(account string) (*ledger.PrepaidCredit, ledger.AccountType, error) {
	if p := t.s.stage(account); p != nil {
		return p, ledger.Prepaid, nil
	}
	typ, err := accountType(t.ctx, t.s.write, account)
	return nil, typ, err
}

func (t writeTx) Reopen(p *ledger.PrepaidCredit, top ledger.TopUp, at time.Time) error {
	return t.s.reopenPrepaid(t.ctx, p, top, at)
}

// SaveTopUp posts the top-up's journal transaction, inserts the lot, and adds it to the staged
// prepaid credit and to the clock's queue (it becomes usable, then expires).
func (t writeTx) SaveTopUp(p *ledger.PrepaidCredit, lot ledger.Lot, posting ledger.Transaction, method, by string, at time.Time) error {
	s, ctx := t.s, t.ctx
	la, err := s.ensureLedgerAccount(ctx, lot.LedgerAccount, p.Account)
	if err != nil {
		return err
	}
	if _, err := s.postTransaction(ctx, posting, by); err != nil {
		return err
	}
	if _, err := s.stmts["insertLot"].ExecContext(ctx, lot.ID, p.Account, la, method, int64(lot.Remaining),
		fmtTime(lot.ReceivedAt), fmtTime(lot.UsableFrom), fmtTime(lot.ExpiresAt), fmtTime(at), by); err != nil {
		return fmt.Errorf("insert lot %s: %w", lot.ID, err)
	}
	p.Add(lot)
	p.Touch(lot.ReceivedAt)
	s.prepaid.newLots = append(s.prepaid.newLots, newLot{p.Account, lot})
	return nil
}

func (t writeTx) ChargebackExists(id string) (bool, error) {
	return t.exists(`SELECT count(*) FROM chargebacks WHERE id = ?`, id)
}

// TopUpLot reads the lot as committed: nothing of it can be pending, the writer being this
// transaction's.
func (t writeTx) TopUpLot(id string) (billing.LotView, error) { return t.s.Lot(t.ctx, id) }

func (t writeTx) ChargedBack(topUpID string) (money.Micros, error) {
	var reversed int64
	err := t.s.write.QueryRowContext(t.ctx, `SELECT coalesce(sum(amount_micros), 0) FROM chargebacks WHERE topup_id = ?`, topUpID).Scan(&reversed)
	return money.Micros(reversed), err
}

// SaveChargeback lowers each lot by what it gave up, posts the chargeback's transaction, closes
// an account left with nothing, and records the chargeback with its notice.
func (t writeTx) SaveChargeback(p *ledger.PrepaidCredit, d billing.ChargebackDecision) error {
	s, ctx, v := t.s, t.ctx, d.View
	for _, draw := range d.Draws {
		if _, err := s.write.ExecContext(ctx, `UPDATE prepaid_lots SET charged_back_micros = charged_back_micros + ? WHERE id = ?`,
			int64(draw.Amount), draw.LotID); err != nil {
			return err
		}
	}
	txID, err := s.postTransaction(ctx, d.Posting, d.By)
	if err != nil {
		return err
	}
	if v.Closed {
		if err := s.closePrepaid(ctx, p, ledger.ClosedChargeback, v.At); err != nil {
			return err
		}
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO chargebacks(id, account_id, topup_id, amount_micros, set_off_micros,
		owed_micros, at, transaction_id, closed, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.Account, v.TopUpID, int64(v.Amount), int64(v.SetOff), int64(v.Owed), fmtTime(v.At), txID, v.Closed, fmtTime(d.At), d.By); err != nil {
		return fmt.Errorf("record chargeback %s: %w", v.ID, err)
	}
	return s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectPrepaidChargedBack, v.Account, v.At, map[string]any{
		"topup_id": v.TopUpID, "chargeback_id": v.ID, "amount": v.Amount.String(), "set_off": v.SetOff.String(),
		"owed": v.Owed.String(), "closed": v.Closed}), fmtTime(v.At))
}

// ChargebackOf reads a booked chargeback; ledger.CodeNotFound when there is none.
func (s *Store) ChargebackOf(ctx context.Context, id string) (billing.ChargebackView, error) {
	var v billing.ChargebackView
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT id, account_id, topup_id, amount_micros, set_off_micros, owed_micros, at, closed
		FROM chargebacks WHERE id = ?`, id).Scan(&v.ID, &v.Account, &v.TopUpID, &v.Amount, &v.SetOff, &v.Owed, &at, &v.Closed)
	if errors.Is(err, stdsql.ErrNoRows) {
		return v, ledger.Errorf(ledger.CodeNotFound, "chargeback %q does not exist", id)
	}
	if err != nil {
		return v, err
	}
	v.At, err = parseTime(at)
	return v, err
}

// postReclaims posts the reclaim transactions of a batch and lowers what the lots' rows say
// their expiry forfeited by as much.
func (s *Store) postReclaims(ctx context.Context, txs []ledger.Transaction) error {
	for _, t := range txs {
		if _, err := s.postTransaction(ctx, t, "ingest"); err != nil {
			return err
		}
		for _, e := range t.Entries {
			if e.AccountID == "" {
				continue
			}
			if _, err := s.write.ExecContext(ctx, `UPDATE prepaid_lots SET expired_micros = expired_micros + ?
				WHERE ledger_account_id = (SELECT id FROM ledger_account_names WHERE name = ?)`, int64(e.Amount), e.LedgerAccount); err != nil {
				return fmt.Errorf("reclaim from %s: %w", e.LedgerAccount, err)
			}
		}
	}
	return nil
}
