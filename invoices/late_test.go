package invoices_test

import (
	"strings"
	"testing"

	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

func micros(s string) money.Micros { return money.MustMicros(dec(s)) }

// R6: an invoice is overdue from the day after its due date.
func TestIsOverdue(t *testing.T) {
	due := date("2026-04-15")
	if invoices.IsOverdue(due, due) {
		t.Error("overdue on its due date")
	}
	if !invoices.IsOverdue(due, date("2026-04-16")) {
		t.Error("not overdue the day after its due date")
	}
	if got := invoices.OverdueSince(due); got != date("2026-04-16") {
		t.Errorf("overdue since %s, want 2026-04-16", got)
	}
}

// overdue1000 is €1,000 due on 2026-04-15 of account acme: €8.34 of interest through
// 2026-05-15 at 10.15 % (TestInterest), with its collection costs not yet charged.
func overdue1000() invoices.OverdueInvoice {
	return invoices.OverdueInvoice{ID: "INV-2026-000001", Account: "acme", Total: micros("1000"), Due: date("2026-04-15"),
		VAT: invoices.VAT{Category: "S", Rate: dec("0.21")}}
}

// R6, T&C 3.8: interest from the day after the due date and the collection costs, each a line
// without VAT naming the invoice it concerns.
func TestLateChargesInterestAndCosts(t *testing.T) {
	late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{overdue1000()}, date("2026-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	lc := late["acme"]
	if len(lc.Lines) != 2 {
		t.Fatalf("lines = %+v, want interest and collection costs", lc.Lines)
	}
	interest, costs := lc.Lines[0], lc.Lines[1]
	if interest.Kind != invoices.LineInterest || interest.Amount.String() != "8.34" || interest.Concerns != "INV-2026-000001" {
		t.Errorf("interest line = %+v, want 8.34 on INV-2026-000001", interest)
	}
	if !strings.Contains(interest.Description, "2026-04-16 to 2026-05-15") {
		t.Errorf("interest description %q does not name the days from the day after the due date", interest.Description)
	}
	if costs.Kind != invoices.LineCollectionCosts || !costs.Amount.Equal(dec("40")) {
		t.Errorf("costs line = %+v, want 40.00", costs)
	}
	for _, l := range lc.Lines {
		if l.VAT == nil || l.VAT.Category != "E" {
			t.Errorf("%s line VAT = %+v, want exempt (NoVAT)", l.Kind, l.VAT)
		}
	}
	want := invoices.LateUpdate{Invoice: "INV-2026-000001", InterestCharged: micros("8.34"), Through: date("2026-05-15"), Costs: true}
	if len(lc.Updates) != 1 || lc.Updates[0] != want {
		t.Errorf("updates = %+v, want %+v", lc.Updates, want)
	}
	if len(lc.Corrections) != 0 {
		t.Errorf("corrections = %+v, want none", lc.Corrections)
	}
}

// Interest charged before is not charged again; costs are charged once.
func TestLateChargesOnlyWhatIsNew(t *testing.T) {
	o := overdue1000()
	o.InterestCharged, o.CostsCharged = micros("5.00"), true
	late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	lc := late["acme"]
	if len(lc.Lines) != 1 || lc.Lines[0].Amount.String() != "3.34" {
		t.Fatalf("lines = %+v, want one interest line of 3.34 (8.34 less 5.00 charged)", lc.Lines)
	}
	if u := lc.Updates[0]; u.InterestCharged != micros("8.34") || u.Costs {
		t.Errorf("update = %+v, want interest 8.34 so far and no costs", u)
	}
}

// A payment booked after interest was charged, received before: what was charged for days it
// was no longer overdue is given back, as a correction.
func TestLateChargesGiveBackInterest(t *testing.T) {
	o := overdue1000()
	o.CostsCharged = true
	o.InterestCharged = micros("8.34")
	o.Settlements = []invoices.Settlement{{On: date("2026-04-26"), Amount: micros("1000")}}
	late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	lc := late["acme"]
	// 1000 × 0.1015 × 10 / 365 = 2.78: 8.34 − 2.78 = 5.56 given back.
	if len(lc.Lines) != 0 || len(lc.Corrections) != 1 || !lc.Corrections[0].Amount.Equal(dec("-5.56")) {
		t.Fatalf("lines %+v, corrections %+v, want one correction of -5.56", lc.Lines, lc.Corrections)
	}
	if u := lc.CorrectionUpdates[0]; u.InterestCharged != micros("2.78") {
		t.Errorf("correction update = %+v, want interest 2.78 so far", u)
	}
}

// R7: a disputed amount bears no interest while open, nor once accepted; rejected, it bears
// interest from the original due date.
func TestLateChargesDisputes(t *testing.T) {
	for _, c := range []struct {
		name    string
		dispute invoices.DisputeSpan
		want    string
	}{
		{"R7_open_bears_none", invoices.DisputeSpan{Amount: micros("600"), Status: "open"}, "3.34"}, // 400 × 30 days
		{"R7_rejected_bears_all", invoices.DisputeSpan{Amount: micros("600"), Status: ledger.DisputeRejected, // as if never disputed
			ResolvedOn: date("2026-05-01")}, "8.34"},
		// accepted on 2026-04-26; its credit note (a settlement) settles the 600 from then on.
		{"R7_accepted_bears_none", invoices.DisputeSpan{Amount: micros("600"), Status: ledger.DisputeAccepted, ResolvedOn: date("2026-04-26")}, "3.34"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := overdue1000()
			o.CostsCharged = true
			o.Disputes = []invoices.DisputeSpan{c.dispute}
			if c.dispute.Status == ledger.DisputeAccepted {
				o.Settlements = []invoices.Settlement{{On: c.dispute.ResolvedOn, Amount: c.dispute.Amount}}
			}
			late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
			if err != nil {
				t.Fatal(err)
			}
			if lines := late["acme"].Lines; len(lines) != 1 || lines[0].Amount.String() != c.want {
				t.Errorf("lines = %+v, want interest %s", lines, c.want)
			}
		})
	}
}

// Payments count towards the interest an invoice itself charges first (art. 6:44 BW): what
// bears interest is at most its total less that interest.
func TestLateChargesInterestLinesBearNone(t *testing.T) {
	o := overdue1000()
	o.CostsCharged = true
	o.Total, o.InterestLines = micros("1100"), micros("100")
	late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := late["acme"].Lines; len(lines) != 1 || lines[0].Amount.String() != "8.34" {
		t.Errorf("lines = %+v, want 8.34 (on 1000, not 1100)", lines)
	}
}

// A day before the first rate is an error naming the rule, not 0 %.
func TestLateChargesMissingRate(t *testing.T) {
	o := overdue1000()
	o.Due = date("2020-01-01")
	_, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
	if err == nil || !strings.Contains(err.Error(), "R6") || !strings.Contains(err.Error(), o.ID) {
		t.Errorf("err = %v, want the missing rate named with R6 and the invoice", err)
	}
}

// Corrections ride on an invoice only while it still comes to more than 0; otherwise they wait.
func TestIssueWithLateCorrectionsWait(t *testing.T) {
	o := overdue1000()
	o.CostsCharged, o.InterestCharged = true, micros("8.34")
	o.Settlements = []invoices.Settlement{{On: date("2026-04-26"), Amount: micros("1000")}}
	late, err := invoices.Late(rates, invoices.CollectionCosts, []invoices.OverdueInvoice{o}, date("2026-05-15"))
	if err != nil {
		t.Fatal(err)
	}
	draft := func(usage string) invoices.Draft {
		d := invoices.Draft{Account: "acme", Period: invoices.Period{Year: 2026, Month: 5}, IssueDate: date("2026-06-01"),
			TermsDays: 14, VAT: invoices.VAT{Category: "S", Rate: dec("0.21")}}
		if usage != "" {
			d.Usage = []invoices.UsageTotal{{Period: d.Period, Kind: invoices.LineUsage, Channel: "sms", Product: "mt",
				Description: "SMS", Unit: invoices.UnitPiece, UnitPrice: "0.05", Quantity: 200, Micros: micros(usage)}}
		}
		return d
	}
	inv, updates, err := draft("10").IssueWithLate("INV-2026-000002", late["acme"])
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Lines) != 2 || len(updates) != 2 {
		t.Errorf("an invoice of 10.00 + VAT takes the correction of -5.56: lines %+v, updates %+v", inv.Lines, updates)
	}
	inv, updates, err = draft("1").IssueWithLate("INV-2026-000002", late["acme"])
	if err != nil {
		t.Fatal(err)
	}
	// Only the update that leaves the interest charged as it was (8.34) goes with it.
	if len(inv.Lines) != 1 || len(updates) != 1 || updates[0].InterestCharged != micros("8.34") || !inv.Total.IsPositive() {
		t.Errorf("an invoice of 1.00 + VAT cannot take -5.56: lines %+v, updates %+v, total %s", inv.Lines, updates, inv.Total)
	}
}

// R7, T&C 3.11: an accepted dispute's credit note credits exactly the amount disputed, one line
// per VAT category it falls in, each naming the invoice, with the shares' VAT.
func TestDisputeCreditNote(t *testing.T) {
	nl, _ := invoices.VATFor("NL", "")
	noVAT := invoices.NoVAT(nl)
	inv := invoices.Invoice{Number: "INV-2026-000002", Account: "acme", IssueDate: date("2026-04-01"), VAT: nl,
		Net: dec("115.25"), Tax: dec("15.75"), Total: dec("131.00"),
		Breakdown: []invoices.TaxSubtotal{{VAT: noVAT, Taxable: dec("40.25")}, {VAT: nl, Taxable: dec("75.00"), Tax: dec("15.75")}}}
	cn, err := invoices.DisputeCreditNote("CN-2026-000001", inv, "d1", "wrong rate", dec("0"), dec("95.75"), date("2026-04-20"))
	if err != nil {
		t.Fatal(err)
	}
	if !cn.Total.Equal(dec("95.75")) || !cn.Tax.Equal(dec("15.75")) || !cn.Net.Equal(dec("80")) {
		t.Errorf("credit note net %s tax %s total %s, want 80.00 + 15.75 = 95.75", cn.Net, cn.Tax, cn.Total)
	}
	if len(cn.Lines) != 2 || cn.Lines[0].Concerns != inv.Number || cn.Lines[1].VAT == nil || cn.Lines[1].VAT.Category != "E" {
		t.Errorf("lines = %+v, want the usage's and then the exempt costs', each naming %s", cn.Lines, inv.Number)
	}
	if cn.InvoiceNumber != inv.Number || cn.Account != "acme" || !strings.Contains(cn.Reason, "d1") || !strings.Contains(cn.Reason, "T&C 3.11") {
		t.Errorf("credit note %+v does not name the invoice, the account, the dispute and the rule", cn)
	}
	if _, err := invoices.DisputeCreditNote("CN-2026-000002", inv, "d2", "again", dec("95.75"), dec("40"), date("2026-04-20")); err == nil {
		t.Error("a credit note beyond the invoice's total: want an error")
	}
}
