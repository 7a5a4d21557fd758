package ledger

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"ledger/clock"
	"ledger/money"
)

// Subjects of prepaid and closure events (CONTRACT 5).
const (
	SubjectPrepaidUsable      = "billing.prepaid.usable"
	SubjectPrepaidExpired     = "billing.prepaid.expired"
	SubjectPrepaidChargedBack = "billing.prepaid.charged_back"
	SubjectAccountClosed      = "billing.account.closed"
	// SubjectAccountReopened: a closure for want of a top-up undone by a top-up received before it.
	SubjectAccountReopened = "billing.account.reopened"
)

// Reasons an account is closed (billing.account.closed, the account's closed_reason).
const (
	// ClosedNoTopUpAfterRegistration: no top-up within 3 months after registration (T&C 3.15).
	ClosedNoTopUpAfterRegistration = "no_topup_after_registration"
	// ClosedNoTopUpAfterDepletion: no top-up within 3 months after the usable and pending
	// balance reached zero (T&C 3.15).
	ClosedNoTopUpAfterDepletion = "no_topup_after_depletion"
	// ClosedChargeback: a top-up was charged back and no balance remained (T&C 3.14).
	ClosedChargeback = "chargeback"
	// ReopenedTopUpBeforeClosure: a top-up received before the closure was booked after it.
	ReopenedTopUpBeforeClosure = "topup_received_before_closure"
)

// Terms of prepaid credit.
const (
	// LotValidityMonths: a top-up expires 12 months after its purchase date (T&C 3.13).
	LotValidityMonths = 12
	// ClosureMonths: a prepaid account not topped up within 3 months is closed (T&C 3.15).
	ClosureMonths = 3
	// ReclaimWindow is how long after a lot's expiry traffic of before the expiry, charged late,
	// is still paid from what the expiry forfeited (rather than becoming a shortfall).
	ReclaimWindow = 31 * 24 * time.Hour
	// MaxTopUp bounds one top-up, in EUR.
	MaxTopUp = 1_000_000
	// MaxRecordIDLength bounds the client ids of top-ups and chargebacks.
	MaxRecordIDLength = 128
)

// Top-up methods (CONTRACT 3.2).
const (
	MethodCard = "card"
	MethodBank = "bank"
)

// LotState is where a lot is in its life: pending until the day after receipt, then usable,
// then expired (T&C 3.13).
type LotState string

// Lot states.
const (
	LotPending LotState = "pending"
	LotUsable  LotState = "usable"
	LotExpired LotState = "expired"
)

// Ledger accounts of prepaid credit. A lot is a ledger account of its own, so that its
// remaining credit is its balance (negative: the provider owes the service) and every draw on
// it is an entry.
const (
	// RevenuePrepaidExpired takes what is left of a lot at its expiry (R9).
	RevenuePrepaidExpired = "revenue:prepaid:expired"
)

// LotLedgerAccount is the ledger account of one top-up lot.
func LotLedgerAccount(account, topUp string) string { return "customer:" + account + ":lot:" + topUp }

// CustomerShortfall is the ledger account of prepaid usage the usable balance did not cover (R9).
func CustomerShortfall(account string) string { return "customer:" + account + ":shortfall" }

// CustomerChargebacks is the ledger account of charged-back amounts the balance did not cover (R10).
func CustomerChargebacks(account string) string { return "customer:" + account + ":chargebacks" }

// CashAccount is the provider's account where money received by a method lands.
func CashAccount(method string) string { return "asset:cash:" + method }

// Transaction kinds of prepaid credit.
const (
	KindTopUp         = "topup"
	KindPrepaidSetOff = "prepaid_setoff" // a shortfall paid from a lot (R9, T&C 3.10)
	KindExpiry        = "prepaid_expiry"
	KindChargeback    = "chargeback"
)

// ValidRecordID reports whether id can name a top-up or chargeback: 1–128 printable characters.
func ValidRecordID(id string) bool {
	if id == "" || len(id) > MaxRecordIDLength || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r == 0x7f {
			return false
		}
	}
	return true
}

// NewTopUp is a top-up as the API receives it (CONTRACT 3.2).
type NewTopUp struct {
	ID         string `json:"id"`
	Amount     string `json:"amount"`
	ReceivedAt string `json:"received_at"`
	Method     string `json:"method"`
}

// TopUp is a validated top-up.
type TopUp struct {
	ID            string
	Amount        money.Micros
	ReceivedAt    time.Time
	ReceivedGiven bool // received_at was given, not defaulted to now
	Method        string
}

// Validate checks a top-up; received_at defaults to now and may not be later than now (a top-up
// is booked when the money is received, T&C 3.13).
func (n NewTopUp) Validate(now time.Time) (TopUp, error) {
	t := TopUp{ID: n.ID, Method: strings.TrimSpace(n.Method), ReceivedAt: now.UTC()}
	if !ValidRecordID(n.ID) {
		return TopUp{}, Errorf(CodeInvalid, "top-up id %q must be 1–%d printable characters", n.ID, MaxRecordIDLength)
	}
	amount, err := ParseAmount("amount", n.Amount)
	if err != nil {
		return TopUp{}, err
	}
	t.Amount = amount
	if t.Method == "" {
		t.Method = MethodBank
	}
	if t.Method != MethodCard && t.Method != MethodBank {
		return TopUp{}, Errorf(CodeInvalid, "method %q must be card or bank", n.Method)
	}
	if n.ReceivedAt != "" {
		at, err := ParseInstant("received_at", n.ReceivedAt)
		if err != nil {
			return TopUp{}, err
		}
		t.ReceivedAt, t.ReceivedGiven = at, true
	}
	if t.ReceivedAt.After(now) {
		return TopUp{}, Errorf(CodeInvalid, "received_at %s is later than now (%s): a top-up is booked once received (T&C 3.13)",
			t.ReceivedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	// A top-up received so long ago that its lot has expired would be forfeited the moment it
	// is booked: a typo in the date, not a payment to take.
	if _, expires := LotTimes(t.ReceivedAt); !expires.After(now) {
		return TopUp{}, Refusef("T&C 3.13", "received_at %s: a top-up received then expired on %s, before it is booked now; prepaid credit expires 12 months after its purchase",
			t.ReceivedAt.Format(time.RFC3339), expires.Format(time.RFC3339))
	}
	return t, nil
}

// NewChargeback is a reversed top-up as the API receives it (CONTRACT 3.2).
type NewChargeback struct {
	ID      string `json:"id"`
	TopUpID string `json:"topup_id"`
	Amount  string `json:"amount"`
	At      string `json:"at"`
}

// Chargeback is a validated chargeback.
type Chargeback struct {
	ID, TopUpID string
	Amount      money.Micros
	At          time.Time
}

// Validate checks a chargeback; at defaults to now and may not be later.
func (n NewChargeback) Validate(now time.Time) (Chargeback, error) {
	c := Chargeback{ID: n.ID, TopUpID: n.TopUpID, At: now.UTC()}
	if !ValidRecordID(n.ID) {
		return Chargeback{}, Errorf(CodeInvalid, "chargeback id %q must be 1–%d printable characters", n.ID, MaxRecordIDLength)
	}
	if !ValidRecordID(n.TopUpID) {
		return Chargeback{}, Errorf(CodeInvalid, "topup_id %q must be 1–%d printable characters", n.TopUpID, MaxRecordIDLength)
	}
	amount, err := ParseAmount("amount", n.Amount)
	if err != nil {
		return Chargeback{}, err
	}
	c.Amount = amount
	if n.At != "" {
		t, err := ParseInstant("at", n.At)
		if err != nil {
			return Chargeback{}, err
		}
		c.At = t
	}
	if c.At.After(now) {
		return Chargeback{}, Errorf(CodeInvalid, "at %s is later than now (%s)", c.At.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// ParseAmount reads a payment's amount: positive, in whole cents, below MaxTopUp EUR.
func ParseAmount(name, s string) (money.Micros, error) {
	d, err := money.Parse(s)
	if err != nil || !d.IsPositive() || !money.RoundInvoice(d).Equal(d) || d.IntPart() >= MaxTopUp {
		return 0, Errorf(CodeInvalid, "%s %q must be a positive amount in EUR with at most 2 decimals, below %d", name, s, MaxTopUp)
	}
	m, err := money.ToMicros(d)
	if err != nil {
		return 0, Errorf(CodeInvalid, "%s %q: %v", name, s, err)
	}
	return m, nil
}

// LotTimes returns when a top-up received at received becomes usable — 00:00 Europe/Amsterdam
// of the next calendar day — and when it expires — 00:00 Europe/Amsterdam on the same calendar
// date 12 months later, 29 February giving 28 February (R9, T&C 3.13).
func LotTimes(received time.Time) (usableFrom, expiresAt time.Time) {
	d := clock.DateOf(received)
	return d.AddDays(1).Start(), d.AddMonthsClamped(LotValidityMonths).Start()
}

// Lot is what charging needs of one top-up: what is left of it and when it may pay. (It is
// held in memory for every live lot, and copied with its account at every change, so it carries
// nothing else; the store has the rest.)
type Lot struct {
	ID            string
	LedgerAccount string
	Remaining     money.Micros // not yet used, expired or charged back
	// Forfeited is, for a lot expired less than ReclaimWindow ago, what its expiry forfeited and
	// traffic of before the expiry may still take back.
	Forfeited  money.Micros
	ReceivedAt time.Time
	UsableFrom time.Time
	ExpiresAt  time.Time
	State      LotState
}

// NewLot returns the lot of a top-up, pending.
func NewLot(account string, t TopUp) Lot {
	usable, expires := LotTimes(t.ReceivedAt)
	name := LotLedgerAccount(account, t.ID)
	// The id is the end of the ledger account's name: one string in memory per lot, not two.
	return Lot{ID: name[len(name)-len(t.ID):], LedgerAccount: name, Remaining: t.Amount,
		ReceivedAt: t.ReceivedAt, UsableFrom: usable, ExpiresAt: expires, State: LotPending}
}

// UsableAt reports whether the lot can pay for traffic that happened at t: received the day
// before or earlier, not expired, something left (R9).
func (l Lot) UsableAt(t time.Time) bool {
	return l.State != LotExpired && l.Remaining > 0 && !t.Before(l.UsableFrom) && t.Before(l.ExpiresAt)
}

// ReclaimableAt reports whether traffic that happened at t, charged after the lot expired, may
// take back what the expiry forfeited: it happened while the lot was usable.
func (l Lot) ReclaimableAt(t time.Time) bool {
	return l.State == LotExpired && l.Forfeited > 0 && !t.Before(l.UsableFrom) && t.Before(l.ExpiresAt)
}

// drawsBefore orders lots for drawing: the one that expires first, then the one received first.
func drawsBefore(a, b Lot) int {
	if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
		return c
	}
	if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Draw is an amount taken from a lot.
type Draw struct {
	Lot           int // its index in the account's live lots
	LotID         string
	LedgerAccount string
	Amount        money.Micros
	Reclaimed     bool // taken back from what the lot's expiry forfeited (late traffic)
}

// PrepaidCredit is a prepaid account's credit: its lots (pending, usable, and expired within the
// reclaim window; in drawing order),
// its shortfall, and what the closure rule needs (T&C 3.12–3.15).
type PrepaidCredit struct {
	Account      string
	RegisteredAt time.Time
	Closed       bool
	ClosedAt     time.Time // when, and why, if closed
	ClosedReason string
	ToppedUp     bool         // ever: the registration rule of T&C 3.15 no longer applies
	Lots         []Lot        // pending, usable and recently expired lots
	Shortfall    money.Micros // usage charged that no usable balance covered (R9)
	// ZeroSince is when the usable and pending balance last reached zero after a top-up; zero
	// while there is balance (T&C 3.15).
	ZeroSince time.Time
}

// PrepaidSlot holds an account's prepaid credit as last committed, for readers on any
// goroutine, and the copy its writer is changing (Staged, the writer's alone).
type PrepaidSlot struct {
	committed atomic.Pointer[PrepaidCredit]
	Staged    *PrepaidCredit
}

// NewPrepaidSlot returns a slot holding p.
func NewPrepaidSlot(p *PrepaidCredit) *PrepaidSlot {
	s := &PrepaidSlot{}
	s.committed.Store(p)
	return s
}

// Load returns the committed credit; it must not be changed.
func (s *PrepaidSlot) Load() *PrepaidCredit { return s.committed.Load() }

// Store installs p as committed; p must not be changed afterwards.
func (s *PrepaidSlot) Store(p *PrepaidCredit) { s.committed.Store(p) }

// Clone returns a copy that can change without changing p.
func (p *PrepaidCredit) Clone() *PrepaidCredit {
	c := *p
	c.Lots = slices.Clone(p.Lots)
	return &c
}

// Balance returns the usable and pending balance.
func (p *PrepaidCredit) Balance() (usable, pending money.Micros) {
	for _, l := range p.Lots {
		switch l.State {
		case LotUsable:
			usable += l.Remaining
		case LotPending:
			pending += l.Remaining
		}
	}
	return usable, pending
}

// Lot returns the index of a live lot, or -1.
func (p *PrepaidCredit) Lot(id string) int {
	for i, l := range p.Lots {
		if l.ID == id {
			return i
		}
	}
	return -1
}

// Add puts a new lot in its place in drawing order.
func (p *PrepaidCredit) Add(l Lot) {
	i, _ := slices.BinarySearchFunc(p.Lots, l, drawsBefore)
	p.Lots = slices.Insert(p.Lots, i, l)
	p.ToppedUp = true
}

// Expire marks lot i expired: what it held is forfeited, and kept for ReclaimWindow as
// Forfeited.
func (p *PrepaidCredit) Expire(i int) {
	l := &p.Lots[i]
	l.State, l.Forfeited, l.Remaining = LotExpired, l.Remaining, 0
}

// Remove takes a lot out of the list (expired, and nothing left to reclaim).
func (p *PrepaidCredit) Remove(i int) { p.Lots = slices.Delete(p.Lots, i, i+1) }

// Draw takes amount for traffic that happened at t from the lots usable at t, the one that
// expires first first (R9); what they cannot cover is returned as short, and added to the
// shortfall. draws is appended to and returned.
func (p *PrepaidCredit) Draw(draws []Draw, t time.Time, amount money.Micros) (_ []Draw, short money.Micros) {
	for i := range p.Lots {
		if amount == 0 {
			break
		}
		l := &p.Lots[i]
		switch {
		case l.UsableAt(t):
			x := min(amount, l.Remaining)
			l.Remaining -= x
			amount -= x
			draws = append(draws, Draw{Lot: i, LotID: l.ID, LedgerAccount: l.LedgerAccount, Amount: x})
		case l.ReclaimableAt(t):
			x := min(amount, l.Forfeited)
			l.Forfeited -= x
			amount -= x
			draws = append(draws, Draw{Lot: i, LotID: l.ID, LedgerAccount: l.LedgerAccount, Amount: x, Reclaimed: true})
		}
	}
	p.Shortfall += amount
	return draws, amount
}

// ClearShortfall pays the shortfall from the lots usable at t (R9: the next top-up clears the
// shortfall first; T&C 3.10 set-off).
func (p *PrepaidCredit) ClearShortfall(t time.Time) []Draw {
	if p.Shortfall == 0 {
		return nil
	}
	owed := p.Shortfall
	p.Shortfall = 0
	draws, short := p.Draw(nil, t, owed)
	p.Shortfall = short
	return draws
}

// SetOff takes a charged-back amount from the balance: the reversed lot's remainder first,
// then the other lots, pending or usable, by earliest expiry (R10, T&C 3.14). uncovered is what
// the balance could not cover: the customer owes it.
func (p *PrepaidCredit) SetOff(reversed string, amount money.Micros) (draws []Draw, uncovered money.Micros) {
	take := func(l *Lot) {
		x := min(amount, l.Remaining)
		if x == 0 {
			return
		}
		l.Remaining -= x
		amount -= x
		draws = append(draws, Draw{LotID: l.ID, LedgerAccount: l.LedgerAccount, Amount: x})
	}
	if i := p.Lot(reversed); i >= 0 {
		take(&p.Lots[i])
	}
	for i := range p.Lots {
		if p.Lots[i].ID != reversed {
			take(&p.Lots[i])
		}
	}
	return draws, amount
}

// Touch records, after a change at t, whether the balance has just reached zero (T&C 3.15).
func (p *PrepaidCredit) Touch(t time.Time) {
	usable, pending := p.Balance()
	switch {
	case usable+pending > 0:
		p.ZeroSince = time.Time{}
	case p.ToppedUp && p.ZeroSince.IsZero():
		p.ZeroSince = t
	}
}

// ClosureDue returns when the account is to be closed if no top-up comes, and why (T&C 3.15):
// at 00:00 Europe/Amsterdam after the last day of the 3 months following registration (when
// never topped up) or following the day the balance reached zero. A top-up on that last day
// still counts.
func (p *PrepaidCredit) ClosureDue() (time.Time, string, bool) {
	if p.Closed || (p.ToppedUp && p.ZeroSince.IsZero()) { // Touch keeps ZeroSince: zero while there is balance
		return time.Time{}, "", false
	}
	if !p.ToppedUp {
		return clock.DateOf(p.RegisteredAt).AddMonthsClamped(ClosureMonths).AddDays(1).Start(), ClosedNoTopUpAfterRegistration, true
	}
	if usable, pending := p.Balance(); usable+pending > 0 || p.ZeroSince.IsZero() {
		return time.Time{}, "", false
	}
	return clock.DateOf(p.ZeroSince).AddMonthsClamped(ClosureMonths).AddDays(1).Start(), ClosedNoTopUpAfterDepletion, true
}

// ExpiringBefore returns what the live lots hold that expires before t.
func (p *PrepaidCredit) ExpiringBefore(t time.Time) money.Micros {
	var sum money.Micros
	for _, l := range p.Lots {
		if l.ExpiresAt.Before(t) {
			sum += l.Remaining
		}
	}
	return sum
}

// TakesTopUp decides whether a closed prepaid account takes a top-up received at receivedAt
// (T&C 3.15: a closed account takes no top-ups). Closed for want of a top-up, a top-up received
// before the closure came in time: the ledger heard of it late, and the closure is undone
// (reopen true). Closed by a chargeback (R10) it takes none; closed by the end of its agreement
// it takes none either, whenever the money was received (R13, T&C 10.7).
func TakesTopUp(p *PrepaidCredit, receivedAt time.Time) (reopen bool, err error) {
	if !p.Closed {
		return false, nil
	}
	clause := "T&C 3.15"
	switch p.ClosedReason {
	case ClosedChargeback:
	case ClosedTerminated:
		clause = "T&C 10.7"
	default:
		if receivedAt.Before(p.ClosedAt) {
			return true, nil
		}
	}
	return false, &Error{Code: CodeConflict, Clause: clause,
		Message: fmt.Sprintf("account %q is closed (%s, %s): it takes no top-ups", p.Account, p.ClosedReason, p.ClosedAt.Format(time.RFC3339))}
}

// RequirePrepaid refuses what only a prepaid account can have (what: "top-ups",
// "chargebacks"): prepaid accounts pay ahead by top-up (R9, T&C 3.12).
func RequirePrepaid(account string, typ AccountType, what string) error {
	if typ != Prepaid {
		return &Error{Code: CodeConflict, Clause: "T&C 3.12",
			Message: fmt.Sprintf("account %q is %s: %s apply to prepaid accounts", account, typ, what)}
	}
	return nil
}

// CanChargeBack refuses a chargeback of a top-up not paid by card (R10, T&C 3.14): a card
// payment can be reversed by the card's issuer; a SEPA credit transfer (bank) cannot.
func CanChargeBack(topUp, method string) error {
	if method != MethodCard {
		return Refusef("R10, T&C 3.14", "top-up %q was paid by %s transfer: only a card top-up can be charged back; a SEPA credit transfer cannot be reversed", topUp, method)
	}
	return nil
}
