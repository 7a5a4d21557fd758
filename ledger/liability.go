package ledger

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ledger/clock"
	"ledger/money"
)

// The liability cap (R12, T&C 8.4) and its limits.
const (
	// ClauseLiability is the clause that caps the provider's liability.
	ClauseLiability = "T&C 8.4"
	// MaxLiability: the provider's liability for all claims together is never more than
	// €50,000 (T&C 8.4).
	MaxLiability money.Micros = 50_000_000_000
	// LiabilityWindowMonths: what the customer paid in the 12 months before the first event
	// giving rise to liability caps it (T&C 8.4).
	LiabilityWindowMonths = 12
	// MaxClaimReasonLength bounds a claim's reason, in characters.
	MaxClaimReasonLength = 1000
)

// The journal of granted claims (R12, T&C 8.4).
const (
	// ExpenseLiabilityClaims is what the provider granted under its liability (an expense,
	// debit positive): each granted claim debits it and credits the customer (CustomerCredit).
	ExpenseLiabilityClaims = "expense:liability_claims"
	// KindClaim is the transaction of a granted claim.
	KindClaim = "claim"
)

// Paid is money received from the customer: a payment of an invoice or a prepaid top-up
// (T&C 8.4: "what the customer paid"). Amount is what was received; a chargeback or refund is the
// caller's to net (pass the top-up less what was charged back, or a negative Paid).
type Paid struct {
	At     time.Time
	Amount money.Micros
}

// LiabilityWindow returns the 12 months before the first incident (T&C 8.4), in
// Europe/Amsterdam calendar terms: a payment counts when from ≤ At < to.
//
//   - to is the incident itself, exclusive: a payment received at the very instant of the
//     incident, or after it, was not paid "before" it.
//   - from is the incident's Amsterdam date and clock time 12 months earlier, inclusive: a
//     payment received exactly 12 months before counts, one received 12 months and a day (or a
//     second) before does not. The date is clamped to the month's last day, so an incident on
//     29 February looks back to 28 February.
//   - Across a change of the clocks the window follows the Amsterdam calendar, not a fixed
//     number of hours: an incident at 10:00 summer time looks back to 10:00 winter time.
//   - When that clock time does not exist (the hour skipped in spring) from is the instant the
//     clocks jump (03:00 summer time); when it exists twice (the hour repeated in autumn) from
//     is its first occurrence. Both are the first instant at which the Amsterdam clock shows
//     that date and time or later, so the window is never narrower than the calendar says.
func LiabilityWindow(firstIncident time.Time) (from, to time.Time) {
	local := firstIncident.In(clock.Amsterdam)
	date := clock.DateOf(firstIncident).AddMonthsClamped(-LiabilityWindowMonths)
	wall := time.Date(date.Year, date.Month, date.Day, local.Hour(), local.Minute(), local.Second(),
		local.Nanosecond(), time.UTC)
	return firstShowing(wall, clock.Amsterdam), firstIncident.UTC()
}

// firstShowing returns the first instant at which a clock in loc shows wall (a wall-clock time
// written as UTC) or later. time.Date leaves the choice open in a gap or an overlap; the
// liability window must not.
func firstShowing(wall time.Time, loc *time.Location) time.Time {
	var first time.Time
	// The offsets in force two days either side cover every change of the clocks near wall
	// (Europe/Amsterdam changes them twice a year).
	for _, probe := range []time.Time{wall.Add(-48 * time.Hour), wall.Add(48 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		candidate := wall.Add(-time.Duration(offset) * time.Second)
		if showsWall(candidate.In(loc), wall) && (first.IsZero() || candidate.Before(first)) {
			first = candidate
		}
	}
	if !first.IsZero() {
		return first.UTC()
	}
	// A gap: the clock jumps over wall. Read with the offset of before the jump, wall lands
	// after it, in the zone that begins at the jump: the first instant showing a later time.
	_, before := wall.Add(-48 * time.Hour).In(loc).Zone()
	start, _ := wall.Add(-time.Duration(before) * time.Second).In(loc).ZoneBounds()
	return start.UTC()
}

// showsWall reports whether local reads the wall-clock time wall (written as UTC).
func showsWall(local, wall time.Time) bool {
	y, m, d := local.Date()
	return time.Date(y, m, d, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), time.UTC).Equal(wall)
}

// LiabilityCap returns what the customer paid in the 12 months before firstIncident (paid12m,
// see LiabilityWindow for which payments count) and the cap on the provider's liability: that
// amount, at most MaxLiability, never below zero (T&C 8.4).
func LiabilityCap(paid []Paid, firstIncident time.Time) (cap, paid12m money.Micros) {
	from, to := LiabilityWindow(firstIncident)
	for _, p := range paid {
		if !p.At.Before(from) && p.At.Before(to) {
			paid12m += p.Amount
		}
	}
	return max(min(paid12m, MaxLiability), 0), paid12m
}

// Claim is a claim for damages (CONTRACT 3.5): what the customer asks, and when the event that
// gave rise to it happened.
type Claim struct {
	ID         string
	Amount     money.Micros
	IncidentAt time.Time
	Reason     string
}

// Validate checks a claim: an id of 1–128 printable characters, a positive amount, an incident
// time, and a reason of 1–MaxClaimReasonLength characters.
func (c Claim) Validate() error {
	if !ValidRecordID(c.ID) {
		return Errorf(CodeInvalid, "claim id %q must be 1–%d printable characters", c.ID, MaxRecordIDLength)
	}
	if c.Amount <= 0 {
		return Errorf(CodeInvalid, "claim %s: amount %s must be positive", c.ID, formatEUR(c.Amount))
	}
	if c.IncidentAt.IsZero() {
		return Errorf(CodeInvalid, "claim %s: incident_at is required", c.ID)
	}
	if err := CheckInstant("incident_at", c.IncidentAt); err != nil {
		return err
	}
	if !utf8.ValidString(c.Reason) || strings.TrimSpace(c.Reason) == "" {
		return Errorf(CodeInvalid, "claim %s: a reason is required", c.ID)
	}
	if n := utf8.RuneCountInString(c.Reason); n > MaxClaimReasonLength {
		return Errorf(CodeInvalid, "claim %s: reason has %d characters, at most %d", c.ID, n, MaxClaimReasonLength)
	}
	if strings.IndexFunc(c.Reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return Errorf(CodeInvalid, "claim %s: reason contains control characters", c.ID)
	}
	return nil
}

// Liability is the provider's liability to one customer over the whole agreement (R12,
// T&C 8.4). Its zero value is an agreement without claims; the first claim fixes FirstIncident,
// and with it Paid12m and Cap, for good.
type Liability struct {
	FirstIncident time.Time    // the incident of the first claim received; zero before it
	Cap           money.Micros // min(Paid12m, MaxLiability)
	Paid12m       money.Micros // paid in the 12 months before FirstIncident
	Granted       money.Micros // granted for all claims together
}

// Fixed reports whether a claim has fixed the window and the cap.
func (l Liability) Fixed() bool { return !l.FirstIncident.IsZero() }

// Remaining returns what can still be granted.
func (l Liability) Remaining() money.Micros { return l.Cap - l.Granted }

// Decide grants what it can of claim c: min(c.Amount, what remains under the cap) (R12,
// T&C 8.4). It returns the liability after the claim and the amount granted, possibly less than
// asked or zero; a refusal is not an error; the caller reports it with Refusal of next. err is only for an invalid claim (CodeInvalid) or a broken invariant
// (CodeInternal); then l is returned unchanged and nothing is granted.
//
// The first claim RECEIVED fixes the window: its incident becomes FirstIncident, and the cap is
// what paid, the customer's payments and top-ups, holds in the 12 months before it. Later
// claims use that window and cap as they are, paid is not read again: a payment received
// later does not raise the cap, and a later claim whose incident happened before the first
// claim's does not move the window back (RULES R12: "the first claim's incident date fixes that
// 12-month window for all later claims"; invariant 5: what was granted stays within a cap that
// does not change under it).
func (l Liability) Decide(c Claim, paid []Paid) (next Liability, granted money.Micros, err error) {
	if err := l.check(); err != nil {
		return l, 0, Errorf(CodeInternal, "claim %s: liability before it: %v", c.ID, err)
	}
	if err := c.Validate(); err != nil {
		return l, 0, err
	}
	next = l
	if !next.Fixed() {
		next.FirstIncident = c.IncidentAt.UTC()
		next.Cap, next.Paid12m = LiabilityCap(paid, next.FirstIncident)
	}
	granted = min(c.Amount, next.Remaining())
	next.Granted += granted

	// Postconditions (invariant 5): 0 ≤ granted ≤ asked, the granted total grows by granted,
	// 0 ≤ Granted ≤ Cap ≤ MaxLiability, and a fixed cap does not move.
	switch {
	case granted < 0 || granted > c.Amount:
		return l, 0, Errorf(CodeInternal, "claim %s: granted %s of %s asked", c.ID, formatEUR(granted), formatEUR(c.Amount))
	case next.Granted != l.Granted+granted:
		return l, 0, Errorf(CodeInternal, "claim %s: granted total %s, want %s + %s", c.ID,
			formatEUR(next.Granted), formatEUR(l.Granted), formatEUR(granted))
	case l.Fixed() && (next.Cap != l.Cap || next.Paid12m != l.Paid12m || !next.FirstIncident.Equal(l.FirstIncident)):
		return l, 0, Errorf(CodeInternal, "claim %s: the cap moved from %s to %s", c.ID, formatEUR(l.Cap), formatEUR(next.Cap))
	}
	if err := next.check(); err != nil {
		return l, 0, Errorf(CodeInternal, "claim %s: %v", c.ID, err)
	}
	return next, granted, nil
}

// check asserts invariant 5: 0 ≤ Granted ≤ Cap ≤ MaxLiability, the cap being what was paid in
// the window, at most MaxLiability; nothing before the first claim.
func (l Liability) check() error {
	if !l.Fixed() {
		if l.Cap != 0 || l.Paid12m != 0 || l.Granted != 0 {
			return Errorf(CodeInternal, "no claim yet but cap %s, paid %s, granted %s",
				formatEUR(l.Cap), formatEUR(l.Paid12m), formatEUR(l.Granted))
		}
		return nil
	}
	if l.Granted < 0 || l.Granted > l.Cap || l.Cap > MaxLiability || l.Cap != max(min(l.Paid12m, MaxLiability), 0) {
		return Errorf(CodeInternal, "invariant 5 broken: granted %s, cap %s (paid %s in the 12 months before %s), at most %s",
			formatEUR(l.Granted), formatEUR(l.Cap), formatEUR(l.Paid12m), l.FirstIncident.Format(time.RFC3339), formatEUR(MaxLiability))
	}
	return nil
}

// Refusal returns the refusal of what Decide did not grant of a claim asking asked, nil when it
// granted it all. Call it on the Liability that Decide returned.
func (l Liability) Refusal(asked, granted money.Micros) error {
	if granted >= asked {
		return nil
	}
	return Refusef(ClauseLiability,
		"claim of %s granted %s, refused %s: liability is capped at %s for all claims together "+
			"(paid %s in the 12 months before the first incident on %s, at most %s); %s granted in total, %s remains",
		formatEUR(asked), formatEUR(granted), formatEUR(asked-granted), formatEUR(l.Cap),
		formatEUR(l.Paid12m), clock.DateOf(l.FirstIncident), formatEUR(MaxLiability), formatEUR(l.Granted), formatEUR(l.Remaining()))
}

// formatEUR formats an amount for people: 2 decimals and the currency ("5000.00 EUR").
func formatEUR(m money.Micros) string {
	return money.FormatInvoice(money.RoundInvoice(m.Decimal())) + " EUR"
}

// ClaimTransaction posts what was granted of claim claimID: the provider's expense and the
// customer's credit (R12: "a granted claim is a credit to the customer"), which set-off then
// applies to the customer's oldest open invoices, each application its own transaction (R8,
// T&C 3.10). A claim granted nothing posts nothing: granted must be positive.
func ClaimTransaction(account, claimID string, granted money.Micros, at time.Time) (Transaction, error) {
	if granted <= 0 {
		return Transaction{}, Errorf(CodeInternal, "claim %s: a credit of %s is not a credit", claimID, formatEUR(granted))
	}
	tx := Transaction{Kind: KindClaim, At: at, Memo: "claim " + claimID + " granted (T&C 8.4)", Entries: []Entry{
		{LedgerAccount: ExpenseLiabilityClaims, Amount: granted},
		{LedgerAccount: CustomerCredit(account), AccountID: account, Amount: -granted},
	}}
	return tx, tx.CheckBalanced()
}
