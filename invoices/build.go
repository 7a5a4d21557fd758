package invoices

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/money"
)

// UsageTotal is the usage of one invoice line in one period, as charged: the sum of its charges
// in micro-euros and of its billed quantity in the channel's counting unit.
type UsageTotal struct {
	Period      Period
	Kind        string // LineUsage, LineSurcharge, LineProfessionalServices, LineTravel, LineMaterials
	Channel     string
	Product     string
	Direction   string
	Country     string
	Description string
	Unit        string
	UnitPrice   string // as priced (decimal); "" when not known, then the amount over the quantity
	// Quantity is billed parts or messages, seconds for voice (priced per minute), minutes for
	// professional services (priced per hour).
	Quantity int64
	Micros   money.Micros
}

// NoVAT is the VAT of late-payment interest and collection costs: compensation for late
// payment, not a supply, so no VAT is due on them (exempt, category E), unless the whole invoice
// is outside the scope of EU VAT (category O), which an invoice cannot mix with others (EN 16931
// BR-O-11).
func NoVAT(invoice VAT) VAT {
	if invoice.Category == "O" {
		return invoice
	}
	return VAT{Category: "E", Rate: decimal.Zero,
		Note: "Late payment interest and collection costs: compensation, not a supply; no VAT"}
}

// TaxSubtotal is the VAT of the lines of one category (EN 16931 VAT breakdown).
type TaxSubtotal struct {
	VAT     VAT
	Taxable decimal.Decimal
	Tax     decimal.Decimal
}

// Breakdown adds up lines per VAT category (R5: VAT per rate on the sum of the line amounts):
// a line's own VAT when it has one, else the document's.
func Breakdown(lines []Line, vat VAT) (subtotals []TaxSubtotal, net, tax, total decimal.Decimal) {
	index := map[string]int{}
	for _, l := range lines {
		v := vat
		if l.VAT != nil {
			v = *l.VAT
		}
		i, ok := index[v.Category]
		if !ok {
			i = len(subtotals)
			index[v.Category] = i
			subtotals = append(subtotals, TaxSubtotal{VAT: v})
		}
		subtotals[i].Taxable = subtotals[i].Taxable.Add(l.Amount)
		net = net.Add(l.Amount)
	}
	for i := range subtotals {
		subtotals[i].Tax = money.RoundInvoice(subtotals[i].Taxable.Mul(subtotals[i].VAT.Rate))
		tax = tax.Add(subtotals[i].Tax)
	}
	return subtotals, net, tax, net.Add(tax)
}

// Draft is what a billing run puts on one account's invoice.
type Draft struct {
	Account    string
	Customer   Party
	Period     Period
	IssueDate  clock.LocalDate
	TermsDays  int  // T&C 3.7: 14 unless agreed otherwise
	DueOnIssue bool // R13, T&C 10.7: on termination unbilled usage is due on issue
	VAT        VAT
	Usage      []UsageTotal
	Late       []Line   // interest and collection costs (R6), each naming its invoice
	Notes      []string // e.g. the indexation of prices since the last invoice (R3, IndexationNote)
}

// IndexationNote is what the first invoice after an indexation says of it (R3, T&C 3.4): the
// day, the rate and the year of the CPI change it used.
func IndexationNote(on clock.LocalDate, cpiYear int, change decimal.Decimal) string {
	return fmt.Sprintf("Prices indexed on %s by %s %%, the change of the consumer price index (CPI) in %d (T&C 3.4)",
		on, change.Shift(2).String(), cpiYear)
}

// lineOrder sorts usage lines: by period, then channel, product, country, description, with each
// surcharge line after its usage.
func lineOrder(a, b UsageTotal) bool {
	if a.Period != b.Period {
		return a.Period.Before(b.Period)
	}
	for _, p := range [][2]string{{a.Channel, b.Channel}, {a.Product, b.Product}, {a.Country, b.Country},
		{a.Direction, b.Direction}, {kindRank[a.Kind], kindRank[b.Kind]}, {a.Description, b.Description}, {a.UnitPrice, b.UnitPrice}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}

// kindRank puts a usage line before the line of its surcharges.
var kindRank = map[string]string{LineUsage: "0", LineProfessionalServices: "0", LineTravel: "0", LineMaterials: "0", LineSurcharge: "1"}

var sixty = decimal.NewFromInt(60)

// usageLine turns a line's usage into an invoice line: its amount is the sum of its charges
// rounded to cents (R5); voice is shown in minutes and professional services in hours.
func usageLine(u UsageTotal, period Period) (Line, error) {
	quantity := decimal.NewFromInt(u.Quantity)
	if u.Unit == UnitMinute || u.Unit == UnitHour {
		quantity = quantity.DivRound(sixty, 6)
	}
	amount := LineAmount(u.Micros)
	var price decimal.Decimal
	if u.UnitPrice != "" {
		p, err := decimal.NewFromString(u.UnitPrice)
		if err != nil {
			return Line{}, fmt.Errorf("unit price %q of line %q: %w", u.UnitPrice, u.Description, err)
		}
		price = p
	} else if !quantity.IsZero() {
		price = u.Micros.Decimal().DivRound(quantity, 6)
	}
	description := u.Description
	if u.Period != period {
		description += " (usage of " + u.Period.String() + ")" // R5: a late event keeps its period
	}
	return Line{Kind: u.Kind, Description: description, Channel: u.Channel, Product: u.Product, Country: u.Country,
		Period: u.Period, Quantity: quantity, Unit: u.Unit, UnitPrice: price, Amount: amount}, nil
}

// Issue makes the invoice of a draft under its number. The lines keep the draft's order for
// late charges and a fixed order for usage, so the same draft always gives the same document.
func (d Draft) Issue(number string) (Invoice, error) {
	if len(d.Usage) == 0 && len(d.Late) == 0 {
		return Invoice{}, fmt.Errorf("invoice %s for %s has no lines", number, d.Account)
	}
	usage := append([]UsageTotal(nil), d.Usage...)
	sort.SliceStable(usage, func(i, j int) bool { return lineOrder(usage[i], usage[j]) })
	inv := Invoice{Number: number, Account: d.Account, Customer: d.Customer, Period: d.Period, IssueDate: d.IssueDate,
		DueDate: DueDate(d.IssueDate, d.TermsDays), Currency: "EUR", VAT: d.VAT}
	if d.DueOnIssue {
		inv.DueDate = d.IssueDate
		inv.Notes = append(inv.Notes, "Due on issue: the agreement was terminated (T&C 10.7)")
	}
	for _, u := range usage {
		l, err := usageLine(u, d.Period)
		if err != nil {
			return Invoice{}, err
		}
		inv.Lines = append(inv.Lines, l)
	}
	inv.Lines = append(inv.Lines, d.Late...)
	inv.Notes = append(inv.Notes, d.Notes...)
	inv.Breakdown, inv.Net, inv.Tax, inv.Total = Breakdown(inv.Lines, d.VAT)
	if d.VAT.Note != "" {
		inv.Notes = append(inv.Notes, d.VAT.Note)
	}
	for _, s := range inv.Breakdown {
		if s.VAT.Category != d.VAT.Category && s.VAT.Note != "" {
			inv.Notes = append(inv.Notes, s.VAT.Note)
		}
	}
	if err := inv.Check(); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

// Check asserts invariant 4's first half: the total is the sum of the line amounts plus the VAT
// of each category, amounts in cents.
func (inv Invoice) Check() error {
	_, net, tax, total := Breakdown(inv.Lines, inv.VAT)
	if !net.Equal(inv.Net) || !tax.Equal(inv.Tax) || !total.Equal(inv.Total) {
		return fmt.Errorf("invoice %s: net %s, VAT %s, total %s do not add up from its lines (%s, %s, %s)",
			inv.Number, inv.Net, inv.Tax, inv.Total, net, tax, total)
	}
	for _, l := range inv.Lines {
		if !l.Amount.Equal(money.RoundInvoice(l.Amount)) {
			return fmt.Errorf("invoice %s: line %q amount %s is not in cents", inv.Number, l.Description, l.Amount)
		}
	}
	return nil
}

// DisputeShare is the part of a disputed amount that falls in one VAT category of an invoice.
type DisputeShare struct {
	VAT   VAT
	Net   decimal.Decimal
	Tax   decimal.Decimal
	Gross decimal.Decimal // Net + Tax: what of the amount owed it is
}

// SplitDispute places a dispute of an amount owed (with VAT, as the invoice's total is) on an
// invoice after disputes of before (not rejected) on it (R7): in the invoice's own VAT category
// first (the usage), then in the others in breakdown order (interest and collection costs,
// which bear none). Within a category the net is the category's disputed amount so far without
// its VAT, less that of the disputes before, so that disputes in parts add up to the invoice's
// net and VAT exactly; a share's VAT may then differ by a cent from its net × rate, within
// EN 16931's tolerance (BR-CO-17). Disputing more than the invoice's total is refused.
func SplitDispute(inv Invoice, before, amount decimal.Decimal) ([]DisputeShare, error) {
	subtotals := inv.Breakdown
	if len(subtotals) == 0 {
		subtotals = []TaxSubtotal{{VAT: inv.VAT, Taxable: inv.Net, Tax: inv.Tax}}
	}
	ordered := make([]TaxSubtotal, 0, len(subtotals))
	for _, s := range subtotals {
		if s.VAT.Category == inv.VAT.Category {
			ordered = append([]TaxSubtotal{s}, ordered...)
		} else {
			ordered = append(ordered, s)
		}
	}
	if amount.Sign() <= 0 || before.Add(amount).GreaterThan(inv.Total) {
		return nil, fmt.Errorf("invoice %s comes to %s, of which %s is disputed already: a dispute of %s exceeds it (R7)",
			inv.Number, money.FormatInvoice(inv.Total), money.FormatInvoice(before), money.FormatInvoice(amount))
	}
	var shares []DisputeShare
	skip, left := before, amount
	for _, s := range ordered {
		capacity := s.Taxable.Add(s.Tax)
		// netOf is the net of the first x of the category's amount owed.
		netOf := func(x decimal.Decimal) decimal.Decimal {
			switch {
			case x.Equal(capacity):
				return s.Taxable
			case s.VAT.Rate.IsZero():
				return x
			}
			return money.RoundInvoice(x.Div(decimal.NewFromInt(1).Add(s.VAT.Rate)))
		}
		if skip.GreaterThanOrEqual(capacity) {
			skip = skip.Sub(capacity)
			continue
		}
		gross := decimal.Min(capacity.Sub(skip), left)
		if gross.IsPositive() {
			net := netOf(skip.Add(gross)).Sub(netOf(skip))
			shares = append(shares, DisputeShare{VAT: s.VAT, Net: net, Tax: gross.Sub(net), Gross: gross})
		}
		left = left.Sub(gross)
		skip = decimal.Zero
		if !left.IsPositive() {
			break
		}
	}
	return shares, nil
}

// DisputeCreditNote is the credit note of an accepted dispute (R7, T&C 3.11) of amount on inv,
// after the disputes of before on it (not rejected): one credit line per VAT category the
// amount falls in (SplitDispute), each naming the invoice. It credits exactly the amount
// disputed: its VAT per category is the share's, not recomputed from the net.
func DisputeCreditNote(number string, inv Invoice, disputeID, reason string, before, amount decimal.Decimal, issued clock.LocalDate) (CreditNote, error) {
	shares, err := SplitDispute(inv, before, amount)
	if err != nil {
		return CreditNote{}, err
	}
	cn := CreditNote{Number: number, Account: inv.Account, Customer: inv.Customer,
		InvoiceNumber: inv.Number, InvoiceIssueDate: inv.IssueDate, IssueDate: issued, Currency: "EUR",
		Reason: "Dispute " + disputeID + " accepted (T&C 3.11): " + reason, VAT: inv.VAT}
	for _, sh := range shares {
		line := Line{Kind: LineCredit, Description: "Credit for " + inv.Number + ": " + reason, Concerns: inv.Number,
			Quantity: decimal.NewFromInt(1), Unit: UnitPiece, UnitPrice: sh.Net, Amount: sh.Net}
		if sh.VAT.Category != cn.VAT.Category {
			v := sh.VAT
			line.VAT = &v
		}
		cn.Lines = append(cn.Lines, line)
	}
	cn.Breakdown, cn.Net, _, _ = Breakdown(cn.Lines, cn.VAT)
	for i := range cn.Breakdown {
		cn.Breakdown[i].Tax = decimal.Zero
		for _, sh := range shares {
			if sh.VAT.Category == cn.Breakdown[i].VAT.Category {
				cn.Breakdown[i].Tax = cn.Breakdown[i].Tax.Add(sh.Tax)
			}
		}
		cn.Tax = cn.Tax.Add(cn.Breakdown[i].Tax)
	}
	cn.Total = cn.Net.Add(cn.Tax)
	if inv.VAT.Note != "" {
		cn.Notes = append(cn.Notes, inv.VAT.Note)
	}
	return cn, nil
}
