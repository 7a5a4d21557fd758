package ledger

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"ledger/money"
	"ledger/pricing"
)

// Subjects of credit-control events (CONTRACT 5).
const (
	SubjectCreditThreshold = "billing.credit.threshold"
	SubjectSuspended       = "billing.account.suspended"
	SubjectResumed         = "billing.account.resumed"
)

// Reasons given with suspension and resumption, and by authorisation (CONTRACT 3.4).
const (
	ReasonCreditLimit         = "credit_limit"         // exposure reached the limit (T&C 3.6)
	ReasonBelowCreditLimit    = "below_credit_limit"   // exposure fell below the limit again (T&C 10.4)
	ReasonSuspended           = "suspended"            // authorisation: the account is suspended
	ReasonClosed              = "closed"               // authorisation: the account is closed
	ReasonInsufficientBalance = "insufficient_balance" // authorisation: prepaid balance does not cover it (T&C 3.12)
)

// DefaultThresholds are the exposure ratios at which the customer is told it nears its limit
// (R4, T&C 3.5: 80 % and 90 %).
var DefaultThresholds = []string{"0.8", "0.9"}

// MaxThresholds bounds the threshold list (one bit each in Credit.Notified).
const MaxThresholds = 16

// ppm is the scale of thresholds: parts per million.
const ppm = 1_000_000

// CreditPolicy says when notices go out.
type CreditPolicy struct {
	thresholds []decimal.Decimal // ascending, each in (0, 1)
	ppm        []uint64          // the same, in parts per million
}

// NewCreditPolicy checks and orders the notice thresholds (fractions of the limit, such as 0.8).
func NewCreditPolicy(thresholds []string) (CreditPolicy, error) {
	var p CreditPolicy
	if len(thresholds) > MaxThresholds {
		return p, fmt.Errorf("at most %d credit thresholds", MaxThresholds)
	}
	seen := map[string]bool{}
	for _, t := range thresholds {
		d, err := money.Parse(strings.TrimSpace(t))
		if err != nil || !d.IsPositive() || !d.LessThan(decimal.NewFromInt(1)) {
			return p, fmt.Errorf("credit threshold %q must be a fraction between 0 and 1, such as 0.8", t)
		}
		scaled := d.Shift(6)
		if !scaled.IsInteger() {
			return p, fmt.Errorf("credit threshold %q has more than 6 decimals", t)
		}
		if seen[d.String()] {
			return p, fmt.Errorf("credit threshold %s given twice", d)
		}
		seen[d.String()] = true
		p.thresholds = append(p.thresholds, d)
	}
	sort.Slice(p.thresholds, func(i, j int) bool { return p.thresholds[i].LessThan(p.thresholds[j]) })
	for _, d := range p.thresholds {
		p.ppm = append(p.ppm, uint64(d.Shift(6).IntPart()))
	}
	return p, nil
}

// Thresholds returns the thresholds, ascending.
func (p CreditPolicy) Thresholds() []decimal.Decimal { return p.thresholds }

// Credit is an account's credit standing, held in memory and kept with every change.
type Credit struct {
	Account string
	Type    AccountType
	Status  Status
	// ClosedAt is when a closed account was closed or terminated: traffic before it is still
	// charged, traffic from it on refused (R11, R13).
	ClosedAt time.Time
	Limit    money.Micros
	Exposure money.Micros // R4: unbilled usage + outstanding invoices + interest and costs unpaid
	// Notified has bit i set while the notice for threshold i has gone out and exposure has not
	// fallen back below it since (R4: one notice per upward crossing, re-armed below).
	Notified uint32
	// Prepaid accounts (R9, T&C 3.12–3.15), as the book reads them from the account's prepaid
	// credit: usable and pending balance, the shortfall, when the account is closed without a
	// top-up (zero: not), and the prepaid credit itself (read only).
	Usable, Pending, Shortfall money.Micros
	ClosureDue                 time.Time
	Prepaid                    *PrepaidCredit
}

// atLeast reports whether exposure ≥ fraction × limit, exactly (128-bit products).
func atLeast(exposure, limit money.Micros, fractionPPM uint64) bool {
	if exposure < 0 {
		return false
	}
	hiE, loE := bits.Mul64(uint64(exposure), ppm)
	hiL, loL := bits.Mul64(uint64(limit), fractionPPM)
	return hiE > hiL || (hiE == hiL && loE >= loL)
}

// Evaluate applies R4 to an account whose exposure or limit may have changed: a notice for each
// threshold crossed upward and not yet notified; re-arming of those fallen below; suspension at
// or above 100 % (T&C 3.6) and resumption below it (T&C 10.4). Closed and prepaid accounts are
// not subject to the credit limit.
func (p CreditPolicy) Evaluate(c Credit, at time.Time) (Credit, []Notice) {
	if c.Type != Postpaid || c.Status == Closed || c.Limit < 0 {
		return c, nil
	}
	var notices []Notice
	if c.Limit > 0 { // with no credit at all (limit 0) there is nothing to approach: suspension says it
		for i, t := range p.ppm {
			bit := uint32(1) << i
			reached := atLeast(c.Exposure, c.Limit, t)
			switch {
			case reached && c.Notified&bit == 0:
				c.Notified |= bit
				notices = append(notices, creditNotice(SubjectCreditThreshold, c, at, map[string]any{
					"threshold": json.Number(p.thresholds[i].String())}))
			case !reached && c.Notified&bit != 0:
				c.Notified &^= bit // re-armed
			}
		}
	}
	over := c.Exposure >= c.Limit // at or above 100 %
	switch {
	case over && c.Status == Active:
		c.Status = Suspended
		notices = append(notices, creditNotice(SubjectSuspended, c, at, map[string]any{"reason": ReasonCreditLimit}))
	case !over && c.Status == Suspended:
		c.Status = Active
		notices = append(notices, creditNotice(SubjectResumed, c, at, map[string]any{"reason": ReasonBelowCreditLimit}))
	}
	return c, notices
}

func creditNotice(subject string, c Credit, at time.Time, extra map[string]any) Notice {
	extra["exposure"] = c.Exposure.String()
	extra["credit_limit"] = money.FormatInvoice(c.Limit.Decimal())
	return NewNotice(subject, c.Account, at, extra)
}

// NotifiedThresholds lists the thresholds whose notice is out, for storage ("0.8,0.9"), so
// that the state means the same if the configured list changes.
func (p CreditPolicy) NotifiedThresholds(notified uint32) string {
	var out []string
	for i, t := range p.thresholds {
		if notified&(1<<i) != 0 {
			out = append(out, t.String())
		}
	}
	return strings.Join(out, ",")
}

// ParseNotified reads NotifiedThresholds back against the current list.
func (p CreditPolicy) ParseNotified(stored string) uint32 {
	var n uint32
	for _, s := range strings.Split(stored, ",") {
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		for i, t := range p.thresholds {
			if t.Equal(d) {
				n |= 1 << i
			}
		}
	}
	return n
}

// Decision is the answer to "may this account send?" (CONTRACT 3.4).
type Decision struct {
	Allowed  bool
	Reason   string
	Estimate money.Micros
}

// Authorize decides from an account's credit whether it may send traffic estimated at estimate
// (R4: only if active and exposure + estimate ≤ limit; R9, T&C 3.12: a prepaid account only if
// its usable balance covers it and no shortfall is open).
func Authorize(c Credit, found bool, estimate money.Micros) Decision {
	d := Decision{Estimate: estimate}
	switch {
	case !found:
		d.Reason = string(ReasonUnknownAccount)
	case c.Status == Closed:
		d.Reason = ReasonClosed
	case c.Status == Suspended:
		d.Reason = ReasonSuspended
	case c.Type == Prepaid:
		if c.Shortfall == 0 && estimate <= c.Usable {
			d.Allowed = true
		} else {
			d.Reason = ReasonInsufficientBalance
		}
	case c.Exposure+estimate <= c.Limit:
		d.Allowed = true
	default:
		d.Reason = ReasonCreditLimit
	}
	return d
}

// CreditBook holds every account in memory — its type, standing and credit: charging asks it
// which accounts exist (Lookup, View) and authorisation reads it, without touching the database;
// the store changes it only after the transaction that changes the database has committed.
//
// A prepaid account's credit is read from its PrepaidSlot: the *PrepaidCredit last committed,
// which the store never changes once stored there (it changes a copy and stores that).
type CreditBook struct {
	mu      sync.RWMutex
	credits map[string]Credit
	prepaid map[string]*PrepaidSlot
	// terms are the pricing terms of the accounts that have any: agreed prices (T&C 2.7) or no
	// indexation (T&C 3.4). The others rate at the list prices, indexed.
	terms map[string]pricing.Terms
}

// NewCreditBook returns an empty book.
func NewCreditBook() *CreditBook {
	return &CreditBook{credits: map[string]Credit{}, prepaid: map[string]*PrepaidSlot{}, terms: map[string]pricing.Terms{}}
}

// ReplaceTerms puts terms in force for every account at once (an account not named rates at
// the list prices, indexed): rating never sees a book half replaced. The book keeps the map.
func (b *CreditBook) ReplaceTerms(terms map[string]pricing.Terms) {
	b.mu.Lock()
	b.terms = terms
	b.mu.Unlock()
}

// SetTerms records an account's pricing terms, which rating reads from the next batch on.
func (b *CreditBook) SetTerms(account string, t pricing.Terms) {
	b.mu.Lock()
	if t == (pricing.Terms{}) {
		delete(b.terms, account)
	} else {
		b.terms[account] = t
	}
	b.mu.Unlock()
}

// Terms returns an account's pricing terms (zero: list prices, indexed).
func (b *CreditBook) Terms(account string) pricing.Terms {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.terms[account]
}

// Get returns an account's credit.
func (b *CreditBook) Get(account string) (Credit, bool) {
	b.mu.RLock()
	c, ok := b.credits[account]
	var slot *PrepaidSlot
	if c.Type == Prepaid { // one map lookup for a postpaid account: authorisation asks per request
		slot = b.prepaid[account]
	}
	b.mu.RUnlock()
	if slot != nil {
		c = withPrepaid(c, slot.Load())
	}
	return c, ok
}

// withPrepaid fills in the prepaid standing of c from p.
func withPrepaid(c Credit, p *PrepaidCredit) Credit {
	c.Prepaid = p
	c.Usable, c.Pending = p.Balance()
	c.Shortfall = p.Shortfall
	c.ClosureDue, _, _ = p.ClosureDue()
	if p.Closed {
		c.Status, c.ClosedAt = Closed, p.ClosedAt
	}
	return c
}

// AddPrepaid gives the book the slots of prepaid accounts, which it reads from then on.
func (b *CreditBook) AddPrepaid(slots ...*PrepaidSlot) {
	b.mu.Lock()
	for _, slot := range slots {
		p := slot.Load()
		b.prepaid[p.Account] = slot
		if c, ok := b.credits[p.Account]; ok && p.Closed && c.Status != Closed {
			c.Status, c.ClosedAt = Closed, p.ClosedAt
			b.credits[p.Account] = c
		}
	}
	b.mu.Unlock()
}

// MarkClosed records that an account was closed or terminated at closedAt (zero: reopened),
// for Lookup, which charging asks once per event (a prepaid account's slot says so too).
func (b *CreditBook) MarkClosed(account string, closedAt time.Time) {
	b.mu.Lock()
	if c, ok := b.credits[account]; ok {
		c.Status, c.ClosedAt = Active, time.Time{}
		if !closedAt.IsZero() {
			c.Status, c.ClosedAt = Closed, closedAt
		}
		b.credits[account] = c
	}
	b.mu.Unlock()
}

// Apply records credits (after their transaction committed).
func (b *CreditBook) Apply(credits ...Credit) {
	b.mu.Lock()
	for _, c := range credits {
		b.credits[c.Account] = c
	}
	b.mu.Unlock()
}

// Lookup returns an account's type and standing (AccountDirectory).
func (b *CreditBook) Lookup(id string) (AccountState, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return lockedBook{b.credits, b.prepaid, b.terms}.Lookup(id)
}

// View calls fn with a directory that reads the book under one read lock, for a whole batch
// (one lock, not one per event).
func (b *CreditBook) View(fn func(AccountDirectory)) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	fn(lockedBook{b.credits, b.prepaid, b.terms})
}

type lockedBook struct {
	credits map[string]Credit
	prepaid map[string]*PrepaidSlot
	terms   map[string]pricing.Terms
}

func (v lockedBook) Lookup(id string) (AccountState, bool) {
	c, ok := v.credits[id]
	state := AccountState{ID: c.Account, Type: c.Type, Status: c.Status, ClosedAt: c.ClosedAt}
	if len(v.terms) > 0 {
		state.Terms = v.terms[id]
	}
	return state, ok
}

// Len returns how many accounts the book holds.
func (b *CreditBook) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.credits)
}

// Each calls fn for every account's credit, under the read lock (metrics).
func (b *CreditBook) Each(fn func(Credit)) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for id, c := range b.credits {
		if c.Type == Prepaid {
			if slot := b.prepaid[id]; slot != nil {
				c = withPrepaid(c, slot.Load())
			}
		}
		fn(c)
	}
}

// CountsToExposure reports whether a ledger account's balance is part of its customer's
// exposure (R4): unbilled usage, outstanding invoices (interest and costs are invoiced), less
// the customer's credit (overpayments not yet set off).
func CountsToExposure(ledgerAccount string) bool {
	return strings.HasPrefix(ledgerAccount, "customer:") && (strings.HasSuffix(ledgerAccount, ":unbilled") ||
		strings.HasSuffix(ledgerAccount, ":receivable") || strings.HasSuffix(ledgerAccount, ":credit"))
}

// SetLimit returns c with its credit limit set to limit, with immediate effect (T&C 3.6), or
// refuses: a limit is an amount ≥ 0 (0 cancels the credit), and only an open postpaid account
// has one (T&C 3.5). The caller evaluates the result against the policy.
func (c Credit) SetLimit(limit money.Micros) (Credit, error) {
	switch {
	case limit < 0:
		return c, Errorf(CodeInvalid, "a credit limit is an amount ≥ 0 (0 cancels the credit, T&C 3.6)")
	case c.Type != Postpaid:
		return c, Errorf(CodeConflict, "account %q is %s: a credit limit applies to postpaid accounts (T&C 3.5)", c.Account, c.Type)
	case c.Status == Closed:
		return c, &Error{Code: CodeConflict, Clause: "T&C 10.7", Message: fmt.Sprintf("account %q is closed: its agreement has ended", c.Account)}
	}
	c.Limit = limit
	return c, nil
}

// ExposureChange is what a transaction changes of one customer's exposure (R4).
type ExposureChange struct {
	Account string
	Delta   money.Micros
}

// ExposureChanges sums, per customer, what a transaction moves on the ledger accounts that
// count to exposure (CountsToExposure, R4), in the order the customers first appear. A usage
// transaction — charging, the hot path — names each customer once (PostUsage), so it is read
// as it comes; any other may move several of a customer's exposure accounts (an invoice:
// unbilled to receivable).
func ExposureChanges(tx Transaction) []ExposureChange {
	once := tx.Kind == KindUsage
	changes := make([]ExposureChange, 0, len(tx.Entries))
	var index map[string]int
	if !once {
		index = make(map[string]int, 4)
	}
	for _, e := range tx.Entries {
		if e.AccountID == "" || !CountsToExposure(e.LedgerAccount) {
			continue
		}
		if !once {
			if i, ok := index[e.AccountID]; ok {
				changes[i].Delta += e.Amount
				continue
			}
			index[e.AccountID] = len(changes)
		}
		changes = append(changes, ExposureChange{e.AccountID, e.Amount})
	}
	return changes
}

// MaxCreditLimit bounds a credit limit, in EUR: far above any customer's, far below what the
// journal's amounts can hold.
const MaxCreditLimit = 1_000_000_000

// CheckLimit checks a credit limit (T&C 3.5, 3.6): an amount ≥ 0 (0 cancels the credit) in
// whole cents — refused with more decimals, never rounded — and at most MaxCreditLimit.
func CheckLimit(name string, d decimal.Decimal) error {
	switch {
	case d.IsNegative():
		return Errorf(CodeInvalid, "%s %s must be an amount ≥ 0 (0 cancels the credit, T&C 3.6)", name, d)
	case !money.RoundInvoice(d).Equal(d):
		return Errorf(CodeInvalid, "%s %s has more than 2 decimals: a credit limit is in cents (T&C 3.6)", name, d)
	case d.GreaterThan(decimal.NewFromInt(MaxCreditLimit)):
		return Errorf(CodeInvalid, "%s %s is more than %d EUR, the most a credit limit may be (T&C 3.6)", name, d, MaxCreditLimit)
	}
	return nil
}

// ParseLimit reads a credit limit and checks it (CheckLimit).
func ParseLimit(name, s string) (decimal.Decimal, error) {
	d, err := money.Parse(s)
	if err != nil {
		return decimal.Decimal{}, Errorf(CodeInvalid, "%s %q must be an amount ≥ 0 (0 cancels the credit, T&C 3.5, 3.6)", name, s)
	}
	return d, CheckLimit(name, d)
}
