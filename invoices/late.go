package invoices

import (
	"fmt"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
)

// OverdueSince is the first day an invoice due on due is overdue: the day after its due date
// (R6).
func OverdueSince(due clock.LocalDate) clock.LocalDate { return due.AddDays(1) }

// IsOverdue reports whether an invoice due on due is overdue on today (R6: from the day after
// the due date), given that something of it is still outstanding and not disputed.
func IsOverdue(due, today clock.LocalDate) bool { return !today.Before(OverdueSince(due)) }

// OverdueInvoice is what late charges need of an overdue invoice: its amounts, what was charged
// on it so far, and the timeline of what settled or disputed it.
type OverdueInvoice struct {
	ID, Account string
	Total       money.Micros
	// Due is the date it fell due (the earlier of its due date and a termination's, T&C 10.7).
	Due clock.LocalDate
	// CostsCharged: its collection costs are on an invoice already.
	CostsCharged bool
	// InterestCharged is the interest charged on it so far, on later invoices.
	InterestCharged money.Micros
	// VAT is its VAT, for the VAT of its late charges (NoVAT).
	VAT VAT
	// InterestLines is the interest this invoice itself charges for other invoices: it bears
	// none (art. 6:119 BW compounds yearly, which Interest does).
	InterestLines money.Micros
	Settlements   []Settlement
	Disputes      []DisputeSpan
}

// Settlement is an amount that settled an invoice on a day (a payment, a set-off, a credit
// note).
type Settlement struct {
	On     clock.LocalDate
	Amount money.Micros
}

// DisputeSpan is a dispute of part of an invoice, as interest sees it.
type DisputeSpan struct {
	Amount money.Micros
	Status string // "open", ledger.DisputeAccepted or ledger.DisputeRejected
	// ResolvedOn is the day an accepted or rejected dispute was resolved.
	ResolvedOn clock.LocalDate
}

// OverdueOn is the amount of the invoice overdue on day d: its total, less what settled it by
// then, less what is disputed (R7).
//
// Payments count towards the interest the invoice itself charges first (art. 6:44 BW), so what
// bears interest is the outstanding amount, at most the total less that interest. A disputed
// amount bears none while the dispute is open, nor, when accepted, ever (its credit note settles
// it from the day it is resolved); rejected, it bears interest from the original due date, as
// if never disputed.
func (o OverdueInvoice) OverdueOn(d clock.LocalDate) decimal.Decimal {
	amount := o.Total
	for _, st := range o.Settlements {
		if !d.Before(st.On) {
			amount -= st.Amount
		}
	}
	amount = min(amount, o.Total-o.InterestLines)
	for _, dp := range o.Disputes {
		switch dp.Status {
		case ledger.DisputeRejected:
		case ledger.DisputeAccepted: // not overdue before its credit note, which settles it from then on
			if d.Before(dp.ResolvedOn) {
				amount -= dp.Amount
			}
		default: // open
			amount -= dp.Amount
		}
	}
	return amount.Decimal()
}

// LateCharges are the interest and collection-cost lines of one account's next invoice and what
// they change on the invoices they concern.
type LateCharges struct {
	Lines   []Line
	Updates []LateUpdate
	// Corrections give back interest charged before a payment received earlier was booked;
	// they ride on an invoice that still comes to more than 0, else they wait for the next one
	// (Draft.IssueWithLate).
	Corrections       []Line
	CorrectionUpdates []LateUpdate
}

// LateUpdate is what an invoice's late charges change on it once they are invoiced.
type LateUpdate struct {
	Invoice string
	// InterestCharged is the interest charged on it so far, these lines included.
	InterestCharged money.Micros
	Through         clock.LocalDate
	// Costs: its collection costs are charged now.
	Costs bool
}

// Late computes, per account, the interest through lastDay and the collection costs not yet
// charged on its overdue invoices (R6, T&C 3.8): each a line naming the invoice it concerns,
// without VAT (NoVAT). Interest already charged is deducted; interest charged for days that a
// payment booked later shows were already paid is given back. costs is the fixed compensation
// per overdue invoice (CollectionCosts by default, Directive 2011/7/EU art. 6).
func Late(rates []Rate, costs decimal.Decimal, overdue []OverdueInvoice, lastDay clock.LocalDate) (map[string]LateCharges, error) {
	out := map[string]LateCharges{}
	for _, o := range overdue {
		first := OverdueSince(o.Due)
		cum, err := Interest(rates, first, lastDay, o.OverdueOn)
		if err != nil {
			return nil, fmt.Errorf("interest on %s: %w", o.ID, err)
		}
		charged := money.MustMicros(cum)
		lc := out[o.Account]
		u := LateUpdate{Invoice: o.ID, InterestCharged: o.InterestCharged, Through: lastDay}
		noVAT := NoVAT(o.VAT)
		switch add := charged - o.InterestCharged; {
		case add > 0:
			amount := add.Decimal()
			lc.Lines = append(lc.Lines, Line{Kind: LineInterest, Concerns: o.ID,
				Description: fmt.Sprintf("Late payment interest on %s, %s to %s (T&C 3.8)", o.ID, first, lastDay),
				Quantity:    decimal.NewFromInt(1), Unit: UnitPiece, UnitPrice: amount, Amount: amount, VAT: &noVAT})
			u.InterestCharged = charged
		case add < 0:
			// A payment booked after interest was charged, received before: the interest charged
			// for days it was no longer overdue is given back.
			amount := (-add).Decimal()
			lc.Corrections = append(lc.Corrections, Line{Kind: LineInterest, Concerns: o.ID,
				Description: fmt.Sprintf("Late payment interest on %s charged for days already paid: given back (T&C 3.8)", o.ID),
				Quantity:    decimal.NewFromInt(-1), Unit: UnitPiece, UnitPrice: amount, Amount: amount.Neg(), VAT: &noVAT})
			lc.CorrectionUpdates = append(lc.CorrectionUpdates, LateUpdate{Invoice: o.ID, InterestCharged: charged, Through: lastDay})
		}
		if !o.CostsCharged && !lastDay.AddDays(1).Before(first) {
			lc.Lines = append(lc.Lines, Line{Kind: LineCollectionCosts, Concerns: o.ID,
				Description: fmt.Sprintf("Collection costs for overdue %s (Directive 2011/7/EU art. 6)", o.ID),
				Quantity:    decimal.NewFromInt(1), Unit: UnitPiece, UnitPrice: costs, Amount: costs, VAT: &noVAT})
			u.Costs = true
		}
		lc.Updates = append(lc.Updates, u)
		out[o.Account] = lc
	}
	return out, nil
}

// IssueWithLate issues the draft with its late charges under number and returns what the
// invoice changes on the invoices they concern. Corrections (interest given back) ride on the
// invoice only if it still comes to more than 0; otherwise they wait for the next one, and the
// invoice is issued without them.
func (d Draft) IssueWithLate(number string, late LateCharges) (Invoice, []LateUpdate, error) {
	d.Late = append(append([]Line(nil), late.Lines...), late.Corrections...)
	updates := append(append([]LateUpdate(nil), late.Updates...), late.CorrectionUpdates...)
	inv, err := d.Issue(number)
	if err == nil && !inv.Total.IsPositive() && len(late.Corrections) > 0 {
		d.Late, updates = late.Lines, late.Updates
		inv, err = d.Issue(number)
	}
	if err != nil {
		return Invoice{}, nil, err
	}
	return inv, updates, nil
}
