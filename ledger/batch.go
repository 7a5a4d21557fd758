package ledger

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"ledger/money"
	"ledger/pricing"
)

// Reason says why an event was parked instead of charged (CONTRACT 2). R1: nothing that cannot
// be charged is dropped or charged zero; it is parked with its reason and replayed once fixed.
type Reason string

// Park reasons.
const (
	ReasonMalformed         Reason = "malformed"
	ReasonUnknownAccount    Reason = "unknown_account"
	ReasonNoPrice           Reason = "no_price"
	ReasonAccountClosed     Reason = "account_closed"
	ReasonDuplicateConflict Reason = "duplicate_conflict"
	// ReasonMissingCPI: the price is due an indexation whose CPI change cpi.csv lacks (R3). The
	// event waits, parked, for the figure: never priced at a silent 0 %.
	ReasonMissingCPI Reason = "missing_cpi"
	// ReasonChargeTooLarge: the event would cost more than MaxEventCharge (an absurd quantity
	// or price). It is parked, not charged and not left to stall the batches behind it.
	ReasonChargeTooLarge Reason = "charge_too_large"
)

// MaxEventCharge is the most one usage event may cost, in EUR: far above any real message,
// call or booking, and far enough below the journal's limits (int64 micro-euros, 9.2·10^12 EUR)
// that a batch of MaxBatch such events and years of balances cannot overflow.
const MaxEventCharge = 1_000_000

// Reasons lists every park reason.
var Reasons = []Reason{ReasonMalformed, ReasonUnknownAccount, ReasonNoPrice, ReasonAccountClosed, ReasonDuplicateConflict, ReasonMissingCPI, ReasonChargeTooLarge}

// Outcome is what became of one delivered event (the outcome label of ledger_usage_events_total).
type Outcome string

// Outcomes.
const (
	OutcomeCharged   Outcome = "charged"
	OutcomeDuplicate Outcome = "duplicate"
	OutcomeRejected  Outcome = "rejected"
)

// AccountState is what charging needs to know of an account, held in memory.
type AccountState struct {
	// ID is the account's id as the directory keeps it (the same bytes as the id looked up).
	// Prepare puts it in the event in place of the decoded copy, so that a batch's events of
	// one account share one string: the later lookups by account (the open lines, the journal,
	// credit control) then find their key by its pointer instead of comparing its bytes, which
	// sit apart in memory in every decoded copy.
	ID     string
	Type   AccountType
	Status Status
	// ClosedAt is when a closed account was closed or terminated (R11, R13).
	ClosedAt time.Time
	// Terms are the account's agreed prices and indexation, for rating (T&C 2.7, 3.4).
	Terms pricing.Terms
}

// AccountDirectory answers which accounts exist, without a database read per event.
type AccountDirectory interface {
	Lookup(id string) (AccountState, bool)
}

// Rater prices usage; *pricing.Tariffs is one.
type Rater interface {
	Rate(u pricing.Usage) (pricing.Rating, error)
}

// Delivery is one message as it came from the stream (or from the parked store on replay).
type Delivery struct {
	Subject  string
	Data     []byte
	ParkedID int64 // the parked row it comes from, on replay; 0 otherwise
	// ParkedReason is the reason it was parked for, on replay.
	ParkedReason string
	// Pseudonym and ParkedHash are, on replay, the pseudonym of the destination and the content
	// hash of the event as it came, which the parked row kept (its body keeps only the numbers'
	// leading digits, R14): the event is charged as the one that came, under its pseudonym.
	Pseudonym  string
	ParkedHash uint64
}

// Prepared is one delivery decoded, validated and rated: either chargeable, or parked with a
// reason. Preparing needs no database, so it runs ahead of the commit of the previous batch.
type Prepared struct {
	Delivery
	Key    string // the event id, or "" when none could be read
	Hash   uint64 // content hash (ContentHash, or RawHash for a malformed body)
	Event  UsageEvent
	Rating pricing.Rating
	Reason Reason // "" when chargeable
	Detail string // why, for people
	// Prepaid: the account pays from its lots (R9), so its usage is not invoiced.
	Prepaid bool
	// AfterClosure: the account is closed and this is traffic of before its closure, arrived
	// late (OwedBeforeClosure): charged, and a terminated postpaid account's is invoiced at once.
	AfterClosure bool
	// BaseMicros and SurchargeMicros are the rating's charge in micro-euros (chargeOf), worked
	// out once, when the event is rated.
	BaseMicros, SurchargeMicros money.Micros
}

// hashOr is the content hash of the event as it first came, which a replayed parked row keeps;
// h, the hash of the delivery's data, otherwise.
func (d Delivery) hashOr(h uint64) uint64 {
	if d.ParkedHash != 0 {
		return d.ParkedHash
	}
	return h
}

// Prepare decodes, validates and rates one delivery.
func Prepare(d Delivery, accounts AccountDirectory, rater Rater) Prepared {
	var p Prepared
	PrepareInto(&p, d, accounts, rater)
	return p
}

// PrepareInto is Prepare writing into *p, which must be zero: a batch prepares into its slice
// in place instead of copying each result in (issue 19).
func PrepareInto(p *Prepared, d Delivery, accounts AccountDirectory, rater Rater) {
	// The pseudonym of the destination (R14) is the embedded Delivery's: kept from the parked
	// row on replay, made by Pseudonyms.Scrub otherwise.
	p.Delivery = d
	e, id, err := DecodeUsage(d.Data)
	if err != nil {
		p.Key, p.Hash, p.Reason, p.Detail = truncateRunes(id, MaxEventIDLength), d.hashOr(RawHash(d.Data)), ReasonMalformed, err.Error()
		if len(d.Data) > MaxEventBytes {
			// Parked with a bounded copy: no one message can fill the database.
			sum := sha256.Sum256(d.Data)
			p.Data = d.Data[:MaxEventBytes:MaxEventBytes]
			p.Detail += fmt.Sprintf("; its first %d bytes are kept; sha256 of all %d: %x", MaxEventBytes, len(d.Data), sum)
		}
		return
	}
	p.Key, p.Hash, p.Event = e.ID, d.hashOr(e.ContentHash()), e
	// CONTRACT 2: an event is published on usage.<channel>.<account>. The subject is what NATS
	// permissions can restrict a publisher to, so an event for another account than its
	// subject names is refused (a publisher of one customer cannot bill another).
	if d.Subject != "" && !subjectNames(d.Subject, e.Account) {
		p.Reason, p.Detail = ReasonMalformed, fmt.Sprintf("subject %q does not name the event's account %q (usage.<channel>.<account>, CONTRACT 2)", d.Subject, e.Account)
		return
	}
	state, ok := accounts.Lookup(e.Account)
	if !ok {
		p.Reason, p.Detail = ReasonUnknownAccount, fmt.Sprintf("account %q does not exist", e.Account)
		return
	}
	if state.ID != "" { // the same bytes, found by them: comparing them again would cost what sharing saves
		p.Event.Account = state.ID
	}
	p.Prepaid = state.Type == Prepaid
	if state.Status == Closed && !OwedBeforeClosure(e.OccurredAt, state.ClosedAt) {
		p.Reason, p.Detail = ReasonAccountClosed, closedDetail(e.Account, state)
		return
	}
	p.AfterClosure = state.Status == Closed
	r, err := rater.Rate(pricing.Usage{Channel: e.Channel, Product: e.Product, Direction: e.Direction,
		Destination: e.Destination, Quantity: e.Quantity, CallerID: e.CallerID, At: e.OccurredAt, Terms: state.Terms})
	if err != nil {
		switch {
		case errors.Is(err, pricing.ErrMissingCPI):
			p.Reason, p.Detail = ReasonMissingCPI, err.Error()
		case errors.Is(err, pricing.ErrNoPrice):
			p.Reason, p.Detail = ReasonNoPrice, err.Error()
		case errors.Is(err, pricing.ErrInvalidUsage):
			p.Reason, p.Detail = ReasonMalformed, err.Error()
		default:
			p.Reason, p.Detail = ReasonNoPrice, "rating failed: "+err.Error()
		}
		return
	}
	base, surcharge, err := chargeOf(r)
	if err != nil {
		p.Reason, p.Detail = ReasonChargeTooLarge, err.Error()
		return
	}
	p.Rating, p.BaseMicros, p.SurchargeMicros = r, base, surcharge
}

// maxEventMicros is MaxEventCharge in micro-euros.
const maxEventMicros = money.Micros(MaxEventCharge * 1_000_000)

// chargeOf is a rating's charge in micro-euros: its usage charges (one, or two for a booking
// across working time) and its surcharges. It refuses a rating that costs more than
// MaxEventCharge, or whose amounts are not whole micro-euros that fit the journal.
func chargeOf(r pricing.Rating) (base, surcharge money.Micros, err error) {
	for _, ch := range r.Charges {
		m, err := money.ToMicros(ch.Amount)
		if err != nil && ch.Amount.Abs().GreaterThan(decimal.NewFromInt(MaxEventCharge)) {
			return 0, 0, tooLarge(ch.Amount.String())
		}
		if err != nil {
			return 0, 0, fmt.Errorf("the event's charge %s EUR is not an amount the journal keeps (whole micro-euros): %v; parked, not dropped (R1)", ch.Amount, err)
		}
		if m > maxEventMicros {
			return 0, 0, tooLarge(ch.Amount.String())
		}
		if ch.Kind == pricing.KindSurcharge {
			surcharge += m
		} else {
			base += m
		}
	}
	if total := base + surcharge; total > maxEventMicros {
		return 0, 0, tooLarge(total.String())
	}
	return base, surcharge, nil
}

// tooLarge refuses an event whose charge passes MaxEventCharge: an absurd quantity or price,
// parked for a person to look at rather than charged or dropped (R1).
func tooLarge(amount string) error {
	return fmt.Errorf("the event would cost %s EUR, more than the %d EUR one event may cost: an absurd quantity or price; parked, not dropped (R1)", amount, MaxEventCharge)
}

// subjectNames reports whether a usage subject is usage.<channel>.<account> for account.
func subjectNames(subject, account string) bool {
	rest, ok := strings.CutPrefix(subject, "usage.")
	if !ok {
		return false
	}
	dot := strings.IndexByte(rest, '.')
	return dot > 0 && rest[dot+1:] == account
}

// truncateRunes cuts s to at most n characters, on a character boundary; invalid UTF-8 is
// replaced, so that the key stored is the key shown.
func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for count := 0; count < n; count++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// ParkKey identifies a parked event: its id (or "" when unreadable) and its content hash.
type ParkKey struct {
	Key  string
	Hash uint64
}

// Existing is what the store already holds for the ids of a batch.
type Existing struct {
	Charged map[string]uint64 // event id → content hash of the charged event
	Parked  map[ParkKey]int64 // open parked rows → their row id
}

// Charge is one event's charge: the row that names the event, written once (R1). It is the
// prepared event itself (its Event, Hash, Rating, BaseMicros and SurchargeMicros, Prepaid,
// and the destination's Pseudonym, R14), not a copy: a batch's copies were a tenth of what
// the ingestion allocated per event (issue 19).
type Charge struct {
	*Prepared
	ParkedID int64 // a parked row this charge resolves, 0 if none
}

// Total is the event's whole charge.
func (c Charge) Total() money.Micros { return c.BaseMicros + c.SurchargeMicros }

// Entry is one line of a transaction: an amount on a ledger account (debit positive).
type Entry struct {
	LedgerAccount string
	AccountID     string // the customer concerned, "" for provider accounts
	Amount        money.Micros
	Events        int // how many usage events the entry aggregates (usage postings)
}

// Transaction is a balanced set of entries.
type Transaction struct {
	Kind    string // "usage", …
	At      time.Time
	Events  int
	Memo    string
	Entries []Entry
}

// Transaction kinds.
const (
	KindUsage = "usage"
)

// CustomerUnbilled is the ledger account of a customer's rated usage not yet invoiced.
func CustomerUnbilled(account string) string { return "customer:" + account + ":unbilled" }

// RevenueUsage is the ledger account of usage revenue of a channel.
func RevenueUsage(channel string) string { return "revenue:usage:" + channel }

// RevenueSurcharges is the ledger account of surcharge revenue (T&C 3.3, SST 6.3).
const RevenueSurcharges = "revenue:surcharges"

// Sum returns the sum of the entries.
func (t Transaction) Sum() money.Micros {
	var s money.Micros
	for _, e := range t.Entries {
		s += e.Amount
	}
	return s
}

// CheckBalanced fails when the entries do not sum to zero (RULES.md invariant 1), or when there
// are none: a transaction that moves nothing is a mistake upstream.
func (t Transaction) CheckBalanced() error {
	if len(t.Entries) == 0 {
		return fmt.Errorf("%s transaction %q has no entries", t.Kind, t.Memo)
	}
	if s := t.Sum(); s != 0 {
		return fmt.Errorf("invariant 1 broken: %s transaction entries sum to %s, not zero", t.Kind, s)
	}
	return nil
}

// MergeUsage is the one journal transaction of several usage transactions committed together
// (group commit): each ledger account's entries summed, in the order the accounts first appear,
// the events counted, at the latest of their times. Entries that sum to zero balance, so the
// merge of balanced transactions balances (invariant 1); it is nil when none is given, and the
// one given when there is one. Per-event auditability is the charges': each charge row names
// the merged transaction.
func MergeUsage(txs []*Transaction) *Transaction {
	var only *Transaction
	for _, t := range txs {
		if t != nil && only != nil {
			return merge(txs)
		}
		if t != nil {
			only = t
		}
	}
	return only
}

func merge(txs []*Transaction) *Transaction {
	var out *Transaction
	var index map[string]int
	n := 0 // room for every entry: no array or map grown (and copied) as the batches merge
	for _, t := range txs {
		if t != nil {
			n += len(t.Entries)
		}
	}
	for _, t := range txs {
		if t == nil {
			continue
		}
		if out == nil {
			out = &Transaction{Kind: t.Kind, At: t.At, Memo: t.Memo, Entries: make([]Entry, 0, n)}
			index = make(map[string]int, n)
		}
		if t.At.After(out.At) {
			out.At = t.At
		}
		out.Events += t.Events
		for _, e := range t.Entries {
			if i, ok := index[e.LedgerAccount]; ok {
				out.Entries[i].Amount += e.Amount
				out.Entries[i].Events += e.Events
				continue
			}
			index[e.LedgerAccount] = len(out.Entries)
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// BatchPlan is what a batch does to the store: charges to write, events to park, replayed
// parked rows resolved, the one journal transaction posting the charges, and each delivery's
// outcome in order.
type BatchPlan struct {
	Outcomes    []Outcome
	Charges     []Charge
	Parked      []Prepared   // to park (on replay: to keep parked, with a fresh reason)
	Resolved    []Resolution // parked rows settled without a new charge (duplicates on replay)
	Transaction *Transaction // nil when nothing was charged
}

// Resolution settles a parked row.
type Resolution struct {
	ParkedID int64
	Outcome  Outcome
}

// PlanBatch decides what a batch of prepared deliveries does, given what the store already holds
// for their ids. It is where exactly-once is decided (R1, invariant 2): an id charged before, or
// earlier in the batch, is a duplicate when its content is the same and a duplicate_conflict
// (parked) when it is not; a parked event that comes again is not parked twice.
func PlanBatch(items []Prepared, existing Existing, at time.Time) (BatchPlan, error) {
	plan := BatchPlan{Outcomes: make([]Outcome, len(items)), Charges: make([]Charge, 0, len(items))}
	charged := existing.Charged
	inBatch := make(map[string]uint64, len(items))
	parkedInBatch := make(map[ParkKey]bool)
	for i := range items {
		p := &items[i] // not a copy of each event: a conflict parks a copy of its own (below)
		if p.Reason == "" {
			hash, seen := inBatch[p.Key]
			if !seen {
				hash, seen = charged[p.Key]
			}
			if seen {
				if hash == p.Hash {
					plan.Outcomes[i] = OutcomeDuplicate
					if p.ParkedID != 0 {
						plan.Resolved = append(plan.Resolved, Resolution{p.ParkedID, OutcomeDuplicate})
					}
					continue
				}
				conflict := *p
				conflict.Reason = ReasonDuplicateConflict
				conflict.Detail = fmt.Sprintf("event id %q was already charged with other content; an id is charged once (R1)", p.Key)
				p = &conflict
			}
		}
		if p.Reason != "" {
			key := ParkKey{p.Key, p.Hash}
			_, open := existing.Parked[key]
			if p.ParkedID == 0 && (open || parkedInBatch[key]) {
				plan.Outcomes[i] = OutcomeDuplicate // parked already: one row per distinct event
				continue
			}
			parkedInBatch[key] = true
			plan.Parked = append(plan.Parked, *p)
			plan.Outcomes[i] = OutcomeRejected
			continue
		}
		c := Charge{Prepared: p, ParkedID: p.ParkedID}
		if c.ParkedID == 0 {
			c.ParkedID = existing.Parked[ParkKey{p.Key, p.Hash}] // re-sent after being parked
		}
		inBatch[p.Key] = p.Hash
		plan.Charges = append(plan.Charges, c)
		plan.Outcomes[i] = OutcomeCharged
	}
	if len(plan.Charges) > 0 {
		tx, err := PostUsage(plan.Charges, at)
		if err != nil {
			return BatchPlan{}, err
		}
		plan.Transaction = &tx
	}
	return plan, nil
}

// PostUsage builds the journal transaction of a batch's charges: per customer one debit of its
// unbilled usage, per channel one credit of usage revenue, and one credit of surcharge revenue.
// Entries come in the order their accounts first appear in the batch.
func PostUsage(charges []Charge, at time.Time) (Transaction, error) {
	// Keyed by account id and by channel, so that a ledger account's name is built once per
	// batch and not once per event.
	customers := make(map[string]int, len(charges)/2+8)
	channels := make(map[string]int, 8)
	entries := make([]Entry, 0, len(charges)+8)
	surcharges := -1
	entry := func(index map[string]int, key string, name func() (string, string)) *Entry {
		i, ok := index[key]
		if !ok {
			i = len(entries)
			index[key] = i
			ledgerAccount, customer := name()
			entries = append(entries, Entry{LedgerAccount: ledgerAccount, AccountID: customer})
		}
		return &entries[i]
	}
	for _, c := range charges {
		e := entry(customers, c.Event.Account, func() (string, string) { return CustomerUnbilled(c.Event.Account), c.Event.Account })
		e.Amount += c.Total()
		e.Events++
		e = entry(channels, c.Event.Channel, func() (string, string) { return RevenueUsage(c.Event.Channel), "" })
		e.Amount -= c.BaseMicros
		e.Events++
		if c.SurchargeMicros != 0 {
			if surcharges < 0 {
				surcharges = len(entries)
				entries = append(entries, Entry{LedgerAccount: RevenueSurcharges})
			}
			entries[surcharges].Amount -= c.SurchargeMicros
			entries[surcharges].Events++
		}
	}
	memo := fmt.Sprintf("%d usage events", len(charges))
	if len(charges) == 1 {
		memo = "1 usage event"
	}
	tx := Transaction{Kind: KindUsage, At: at, Events: len(charges), Memo: memo, Entries: entries}
	if err := tx.CheckBalanced(); err != nil {
		return Transaction{}, err
	}
	return tx, nil
}
