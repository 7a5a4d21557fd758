package invoices

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
)

// The e-invoices of R5 ("UBL 2.1 e-invoices (PEPPOL BIS Billing 3.0, EN 16931) for customers,
// and credit notes likewise"). The rules of EN 16931 that shaped a choice are named where they
// bite; the official validation artefact (shared/validation/validate-ubl) checks every document
// the tests write.
const (
	ublCustomizationID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
	ublProfileID       = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
	ublInvoiceTypeCode = "380" // commercial invoice (UNTDID 1001)
	ublCreditNoteCode  = "381" // credit note
	ublCurrency        = "EUR" // RULES: money is EUR
	ublTaxSchemeVAT    = "VAT"
	ublSchemeEmail     = "EM" // EAS: electronic mail

	ublNamespaceInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	ublNamespaceCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	ublNamespaceCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
	ublNamespaceCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

	// ublLineAmountSlack is how far quantity × unit price may be from a line's amount for the
	// line to show them: PEPPOL-EN16931-R120 allows 0.02.
	ublLineAmountSlack = "0.02"
)

var ublLineAmountSlackEUR = decimal.RequireFromString(ublLineAmountSlack)

// ublVATEndpointSchemes maps a VAT number's prefix to the scheme of the CEF EAS code list
// (BR-CL-25) under which that VAT number is itself an electronic address. Countries whose
// scheme is not the plain VAT number (Finland, Sweden) are left out: their parties fall back
// to e-mail.
var ublVATEndpointSchemes = map[string]string{
	"AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930",
	"DK": "0184", "EE": "9931", "ES": "9920", "FR": "9957", "HR": "9934", "HU": "9910",
	"IE": "9935", "IT": "0211", "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943",
	"NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947", "SI": "9949", "SK": "9950",
}

// WriteUBLInvoice writes inv as a UBL 2.1 invoice (PEPPOL BIS Billing 3.0, EN 16931) issued by
// seller. seller needs Name, Country and VATID (BR-06, BR-09, BR-S-02/BR-AE-02); its Street,
// City and PostalCode are shown when set (PEPPOL's NL-R-002 wants them for a Dutch seller).
// The invoice must add up as Breakdown says (BR-CO-10, BR-CO-15, BR-S-09): a document that does
// not is refused, not written. The output is the same bytes for the same input.
func WriteUBLInvoice(w io.Writer, inv Invoice, seller Party) error {
	doc, err := ublInvoiceOf(inv, seller)
	if err != nil {
		return fmt.Errorf("UBL invoice %s: %w", inv.Number, err)
	}
	return ublWrite(w, doc)
}

// WriteUBLCreditNote writes cn as a UBL 2.1 credit note (PEPPOL BIS Billing 3.0, EN 16931)
// referring to the invoice it credits, on the same terms as WriteUBLInvoice.
func WriteUBLCreditNote(w io.Writer, cn CreditNote, seller Party) error {
	doc, err := ublCreditNoteOf(cn, seller)
	if err != nil {
		return fmt.Errorf("UBL credit note %s: %w", cn.Number, err)
	}
	return ublWrite(w, doc)
}

func ublWrite(w io.Writer, doc any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// ublDocument is what an invoice and a credit note have in common, checked once.
type ublDocument struct {
	number   string
	currency string
	customer Party
	seller   Party
	lines    []Line
	vat      VAT // the customer's (R5); a line may carry its own
	net      decimal.Decimal
	tax      decimal.Decimal
	total    decimal.Decimal
	stored   []TaxSubtotal // the breakdown the document was issued with, if it says
	// taxTolerance is how far a stored category's VAT may be from its taxable × rate: 0 on an
	// invoice; a cent on a credit note, whose VAT is that of the amount credited (SplitDispute).
	taxTolerance decimal.Decimal
	notes        []string
	period       Period        // zero for a credit note
	breakdown    []TaxSubtotal // set by check
}

func ublInvoiceOf(inv Invoice, seller Party) (ublInvoice, error) {
	d := ublDocument{
		number: inv.Number, currency: inv.Currency, customer: inv.Customer, seller: seller,
		lines: inv.Lines, vat: inv.VAT, net: inv.Net, tax: inv.Tax, total: inv.Total,
		stored: inv.Breakdown, notes: inv.Notes, period: inv.Period,
	}
	if err := d.check(); err != nil {
		return ublInvoice{}, err
	}
	if inv.DueDate.Before(inv.IssueDate) {
		return ublInvoice{}, ledger.Errorf(ledger.CodeInternal, "due date %s is before the issue date %s", inv.DueDate, inv.IssueDate)
	}
	doc := ublInvoice{
		XMLNamespace: ublNamespaceInvoice, XMLNamespaceCAC: ublNamespaceCAC, XMLNamespaceCBC: ublNamespaceCBC,
		CustomizationID: ublCustomizationID,
		ProfileID:       ublProfileID,
		ID:              inv.Number,
		IssueDate:       inv.IssueDate.String(),
		DueDate:         inv.DueDate.String(),
		InvoiceTypeCode: ublInvoiceTypeCode,
		Note:            d.ublNote(d.notes),
		Currency:        ublCurrency,
		BuyerReference:  inv.Account, // PEPPOL-EN16931-R003 wants a buyer reference; the account is one
		Supplier:        ublSupplierParty{Party: d.ublSeller()},
		Customer:        ublCustomerParty{Party: d.ublCustomer()},
		// T&C 3.7: due on the due date, without suspension, set-off or deduction.
		PaymentTerms: &ublPaymentTerms{Note: fmt.Sprintf(
			"Due on %s, without suspension, set-off or deduction (T&C 3.7).", inv.DueDate)},
		TaxTotal: d.ublTaxTotal(),
		Totals:   d.ublTotals(),
		Lines:    d.ublLines(false),
	}
	if seller.IBAN != "" {
		doc.PaymentMeans = &ublPaymentMeans{Code: "58", PaymentID: inv.Number}
		doc.PaymentMeans.Account.ID = seller.IBAN
	}
	if inv.Period != (Period{}) {
		last := inv.Period.IssueDate().AddDays(-1) // the period's last day
		doc.InvoicePeriod = &ublPeriod{StartDate: fmt.Sprintf("%s-01", inv.Period), EndDate: last.String()}
	}
	return doc, nil
}

func ublCreditNoteOf(cn CreditNote, seller Party) (ublCreditNote, error) {
	d := ublDocument{
		number: cn.Number, currency: cn.Currency, customer: cn.Customer, seller: seller,
		lines: cn.Lines, vat: cn.VAT, net: cn.Net, tax: cn.Tax, total: cn.Total,
		stored: cn.Breakdown, notes: cn.Notes, taxTolerance: decimal.New(1, -2),
	}
	if err := d.check(); err != nil {
		return ublCreditNote{}, err
	}
	// R7 (and PEPPOL's NL-R-001 for Dutch sellers): a credit note names the invoice it credits.
	if cn.InvoiceNumber == "" {
		return ublCreditNote{}, ledger.Errorf(ledger.CodeInternal, "the credit note names no invoice it credits")
	}
	notes := d.notes
	if cn.Reason != "" {
		notes = append([]string{fmt.Sprintf("Credit for invoice %s: %s", cn.InvoiceNumber, cn.Reason)}, notes...)
	}
	reference := ublDocumentReference{ID: cn.InvoiceNumber}
	if cn.InvoiceIssueDate != (clock.LocalDate{}) {
		reference.IssueDate = cn.InvoiceIssueDate.String()
	}
	return ublCreditNote{
		XMLNamespace: ublNamespaceCreditNote, XMLNamespaceCAC: ublNamespaceCAC, XMLNamespaceCBC: ublNamespaceCBC,
		CustomizationID:    ublCustomizationID,
		ProfileID:          ublProfileID,
		ID:                 cn.Number,
		IssueDate:          cn.IssueDate.String(),
		CreditNoteTypeCode: ublCreditNoteCode,
		Note:               d.ublNote(notes),
		Currency:           ublCurrency,
		BuyerReference:     cn.Account,
		BillingReference:   ublBillingReference{InvoiceDocumentReference: reference},
		Supplier:           ublSupplierParty{Party: d.ublSeller()},
		Customer:           ublCustomerParty{Party: d.ublCustomer()},
		// R8, T&C 3.10: a credit note is set off against the account's open invoices.
		PaymentTerms: &ublPaymentTerms{Note: "Set off against the oldest open invoices of the account (T&C 3.10)."},
		TaxTotal:     d.ublTaxTotal(),
		Totals:       d.ublTotals(),
		Lines:        d.ublLines(true),
	}, nil
}

// check refuses a document that would not be a valid EN 16931 document or that does not add up
// (invariant 4): better no e-invoice than a wrong one. It sets the VAT breakdown.
func (d *ublDocument) check() error {
	internal := func(format string, args ...any) error {
		return ledger.Errorf(ledger.CodeInternal, format, args...)
	}
	switch {
	case d.number == "":
		return internal("the document has no number (BR-02)")
	case d.currency != ublCurrency:
		return internal("currency %q: documents are in %s", d.currency, ublCurrency)
	case d.seller.Name == "" || d.seller.Country == "":
		return internal("the seller needs a name and a country (BR-06, BR-09)")
	case !ublHasCountryPrefix(d.seller.VATID):
		return internal("the seller's VAT ID %q needs its country prefix (BR-CO-09; BR-S-02, BR-AE-02, BR-E-02)", d.seller.VATID)
	case d.customer.Name == "" || d.customer.Country == "":
		return internal("the customer needs a name and a country (BR-07, BR-11)")
	case len(d.lines) == 0:
		return internal("a document has at least one line (BR-16)")
	}
	for i, l := range d.lines {
		if !l.Amount.Equal(money.RoundInvoice(l.Amount)) {
			return internal("line %d amount %s has more than 2 decimals (R5, BR-DEC-23)", i+1, l.Amount)
		}
		if strings.TrimSpace(l.Description) == "" {
			return internal("line %d has no description (BR-25)", i+1)
		}
	}
	breakdown, net, tax, total := Breakdown(d.lines, d.vat)
	if d.stored != nil && d.taxTolerance.IsPositive() && ublCloseBreakdown(d.stored, breakdown, d.taxTolerance) {
		// The VAT as credited, a cent within taxable × rate (BR-CO-17 allows it).
		breakdown, tax = d.stored, decimal.Zero
		for _, s := range breakdown {
			tax = tax.Add(s.Tax)
		}
		total = net.Add(tax)
	}
	if !net.Equal(d.net) || !tax.Equal(d.tax) || !total.Equal(d.total) {
		return internal("net %s, VAT %s, total %s do not add up from the lines: %s, %s, %s (R5, invariant 4)",
			d.net, d.tax, d.total, net, tax, total)
	}
	if d.stored != nil && !ublSameBreakdown(d.stored, breakdown) {
		return internal("the VAT breakdown it was issued with differs from its lines' (R5)")
	}
	for _, s := range breakdown {
		v := s.VAT
		switch {
		case v.Category == "S" && !v.Rate.IsPositive():
			return internal("VAT category S with rate %s: a standard rate is above zero (BR-S-05)", v.Rate)
		case v.Category == "S":
		case !v.Rate.IsZero():
			return internal("VAT category %s with rate %s: only S has a rate above zero (BR-AE-05, BR-E-05)", v.Category, v.Rate)
		case v.Category == "AE":
			// R5, Directive 2006/112/EC art. 226(4): a reverse-charge invoice names the customer's VAT ID.
			if !ublHasCountryPrefix(d.customer.VATID) {
				return internal("reverse charge needs the customer's VAT ID with its country prefix, not %q (BR-AE-02, BR-CO-09)", d.customer.VATID)
			}
		case v.Category == "O":
			if len(breakdown) > 1 {
				return internal("VAT category O cannot share a document with other categories (BR-O-11, BR-O-12)")
			}
		case v.Category == "E":
			if v.ExemptionCode == "" && v.Note == "" {
				return internal("VAT category E needs an exemption reason code or text (BR-E-10)")
			}
		default:
			return internal("VAT category %q: the ledger invoices S, AE, E or O (R5)", v.Category)
		}
	}
	d.breakdown = breakdown
	return nil
}

func ublSameBreakdown(a, b []TaxSubtotal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].VAT.Category != b[i].VAT.Category || !a[i].VAT.Rate.Equal(b[i].VAT.Rate) ||
			!a[i].Taxable.Equal(b[i].Taxable) || !a[i].Tax.Equal(b[i].Tax) {
			return false
		}
	}
	return true
}

// ublCloseBreakdown reports whether a stored breakdown has the categories and taxable amounts of
// the lines' and each VAT amount within tolerance of theirs.
func ublCloseBreakdown(stored, lines []TaxSubtotal, tolerance decimal.Decimal) bool {
	if len(stored) != len(lines) {
		return false
	}
	for i := range stored {
		if stored[i].VAT.Category != lines[i].VAT.Category || !stored[i].VAT.Rate.Equal(lines[i].VAT.Rate) ||
			!stored[i].Taxable.Equal(lines[i].Taxable) || stored[i].Tax.Sub(lines[i].Tax).Abs().GreaterThan(tolerance) {
			return false
		}
	}
	return true
}

func ublHasCountryPrefix(vatID string) bool {
	return len(vatID) > 2 && vatID[0] >= 'A' && vatID[0] <= 'Z' && vatID[1] >= 'A' && vatID[1] <= 'Z'
}

// ublNote is the document's one note: PEPPOL-EN16931-R002 allows no more than one, so the
// mentions are joined.
func (d ublDocument) ublNote(notes []string) string {
	return strings.Join(mentions(notes, d.breakdown), "\n")
}

// mentions are a document's notes and, after them, each VAT category's mention (R5: "Reverse
// charge") that they do not carry yet, once each: what the UBL note and the PDF both say.
func mentions(notes []string, breakdown []TaxSubtotal) []string {
	all := make([]string, 0, len(notes)+len(breakdown))
	seen := map[string]bool{}
	add := func(n string) {
		if n = strings.TrimSpace(n); n != "" && !seen[n] {
			seen[n] = true
			all = append(all, n)
		}
	}
	for _, n := range notes {
		add(n)
	}
	for _, s := range breakdown {
		add(s.VAT.Note)
	}
	return all
}

// outsideScope reports whether the document is outside the scope of EU VAT (category O, which
// is then its only category).
func (d ublDocument) outsideScope() bool { return d.breakdown[0].VAT.Category == "O" }

func (d ublDocument) ublSeller() ublParty {
	// BR-O-02: a document outside the scope of VAT shows neither the seller's nor the buyer's
	// VAT identifier.
	p := ublPartyOf(d.seller, !d.outsideScope())
	if d.outsideScope() {
		// BR-CO-26 wants the seller identified by BT-29, BT-30 or BT-31; with BT-31 (the VAT ID)
		// ruled out by BR-O-02, the VAT number is shown as the seller identifier (BT-29).
		p.PartyIdentification = &ublPartyIdentification{ID: d.seller.VATID}
	}
	return p
}

func (d ublDocument) ublCustomer() ublParty {
	p := ublPartyOf(d.customer, !d.outsideScope())
	if d.customer.ID != "" {
		p.PartyIdentification = &ublPartyIdentification{ID: d.customer.ID} // BT-46, the account
	}
	return p
}

func ublPartyOf(party Party, showVATID bool) ublParty {
	p := ublParty{
		EndpointID: ublEndpointOf(party),
		PartyName:  &ublPartyName{Name: party.Name},
		PostalAddress: ublAddress{
			StreetName: party.Street, CityName: party.City, PostalZone: party.PostalCode,
			Country: ublCountry{IdentificationCode: party.Country},
		},
		// BR-06 and BR-07: the seller's and the buyer's name are the registration name.
		PartyLegalEntity: ublPartyLegalEntity{RegistrationName: party.Name},
	}
	if showVATID && party.VATID != "" {
		p.PartyTaxScheme = &ublPartyTaxScheme{CompanyID: party.VATID, TaxScheme: ublTaxScheme{ID: ublTaxSchemeVAT}}
	}
	if party.Email != "" {
		p.Contact = &ublContact{ElectronicMail: party.Email}
	}
	return p
}

// ublEndpointOf is a party's electronic address (BT-34, BT-49): its PEPPOL id (SCHEME:ID), else
// its VAT number under its country's EAS scheme (NL 9944), else its e-mail address under EM,
// else none. EN 16931 accepts
// EM (BR-CL-25); PEPPOL's own list does not, but a party without a PEPPOL identifier is not
// reached through PEPPOL anyway. Greek VAT numbers are written without their EL prefix (9933).
func ublEndpointOf(party Party) *ublIdentifier {
	if scheme, id, ok := ledger.SplitPeppolID(party.PeppolID); ok {
		return &ublIdentifier{SchemeID: scheme, Value: id}
	}
	if len(party.VATID) > 2 {
		prefix := party.VATID[:2]
		if scheme, ok := ublVATEndpointSchemes[prefix]; ok {
			return &ublIdentifier{SchemeID: scheme, Value: party.VATID}
		}
		if prefix == "EL" {
			return &ublIdentifier{SchemeID: "9933", Value: party.VATID[2:]}
		}
	}
	if party.Email != "" {
		return &ublIdentifier{SchemeID: ublSchemeEmail, Value: party.Email}
	}
	return nil
}

// lineVAT is the VAT of a line: its own, else the document's (as Breakdown has it).
func (d ublDocument) lineVAT(l Line) VAT {
	if l.VAT != nil {
		return *l.VAT
	}
	return d.vat
}

// ublTaxCategoryOf is a line's VAT category (BT-151, BT-152). BR-O-05: category O has no rate.
func ublTaxCategoryOf(v VAT) ublTaxCategory {
	c := ublTaxCategory{ID: v.Category, TaxScheme: ublTaxScheme{ID: ublTaxSchemeVAT}}
	if v.Category != "O" {
		c.Percent = v.Rate.Shift(2).String()
	}
	return c
}

// ublTaxTotal is the VAT breakdown (BG-23): a subtotal per category, with the reason a 0 %
// category is not taxed.
func (d ublDocument) ublTaxTotal() ublTaxTotal {
	total := ublTaxTotal{TaxAmount: ublAmountOf(d.tax)}
	for _, s := range d.breakdown {
		category := ublTaxCategoryOf(s.VAT)
		switch s.VAT.Category {
		case "AE":
			// BR-AE-10: the exemption reason code and the words "Reverse charge" (R5).
			category.TaxExemptionReasonCode = ublOr(s.VAT.ExemptionCode, "VATEX-EU-AE")
			category.TaxExemptionReason = "Reverse charge"
		case "O":
			// BR-O-10: the exemption reason code or text meaning "Not subject to VAT".
			category.TaxExemptionReasonCode = ublOr(s.VAT.ExemptionCode, "VATEX-EU-O")
			category.TaxExemptionReason = "Not subject to VAT"
		case "E":
			// BR-E-10: an exemption reason code or text; the VAT's own mention is the text.
			category.TaxExemptionReasonCode = s.VAT.ExemptionCode
			category.TaxExemptionReason = s.VAT.Note
		}
		total.Subtotals = append(total.Subtotals, ublTaxSubtotal{
			TaxableAmount: ublAmountOf(s.Taxable),
			TaxAmount:     ublAmountOf(s.Tax),
			TaxCategory:   category,
		})
	}
	return total
}

func ublOr(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// ublTotals: nothing was paid in advance and nothing is rounded, so what is payable is the
// total (BR-CO-13, BR-CO-15, BR-CO-16).
func (d ublDocument) ublTotals() ublMonetaryTotal {
	return ublMonetaryTotal{
		LineExtensionAmount: ublAmountOf(d.net),
		TaxExclusiveAmount:  ublAmountOf(d.net),
		TaxInclusiveAmount:  ublAmountOf(d.total),
		PayableAmount:       ublAmountOf(d.total),
	}
}

func ublAmountOf(a decimal.Decimal) ublAmount {
	return ublAmount{CurrencyID: ublCurrency, Value: money.FormatInvoice(a)}
}

func (d ublDocument) ublLines(creditNote bool) []ublLine {
	lines := make([]ublLine, len(d.lines))
	for i, l := range d.lines {
		quantity, unit, price, shown := ublQuantityAndPrice(l)
		line := ublLine{
			ID:                  strconv.Itoa(i + 1),
			Note:                ublLineNote(l, d.period),
			LineExtensionAmount: ublAmountOf(l.Amount),
			Item: ublItem{
				Name:                  l.Description,
				ClassifiedTaxCategory: ublTaxCategoryOf(d.lineVAT(l)),
			},
			Price: ublPrice{PriceAmount: ublAmount{CurrencyID: ublCurrency, Value: price}},
		}
		if !shown {
			line.Item.Description = fmt.Sprintf("%s: %s %s at %s EUR",
				l.Description, l.Quantity, ublOr(l.Unit, UnitPiece), money.FormatCharge(l.UnitPrice))
		}
		q := &ublQuantity{UnitCode: unit, Value: quantity}
		if creditNote {
			line.CreditedQuantity = q
		} else {
			line.InvoicedQuantity = q
		}
		lines[i] = line
	}
	return lines
}

// ublQuantityAndPrice is what a line shows as its quantity and net price. BR-27: a price is
// never negative, so a credit or any negative line shows a negative quantity. A line whose
// quantity × unit price is more than PEPPOL's 0.02 from its amount (PEPPOL-EN16931-R120; the
// amount is the sum of rounded charges, R5, and a unit price may be an average) shows one piece
// at its amount instead; shown reports which, so that the real quantity and unit price can go in
// the item description.
func ublQuantityAndPrice(l Line) (quantity, unit, price string, shown bool) {
	q, p := l.Quantity, l.UnitPrice
	if p.IsNegative() {
		q, p = q.Neg(), p.Neg()
	}
	if q.Mul(p).Sub(l.Amount).Abs().LessThanOrEqual(ublLineAmountSlackEUR) {
		return q.String(), ublOr(l.Unit, UnitPiece), money.FormatCharge(p), true
	}
	one := decimal.NewFromInt(1)
	if l.Amount.IsNegative() {
		one = one.Neg()
	}
	return one.String(), UnitPiece, money.FormatInvoice(l.Amount.Abs()), false
}

// ublLineNote carries what R5 and R6 want a line to say beyond its description: the period of
// usage that landed on a later invoice, and the invoice that interest, costs or a credit concern.
// UBL-SR-34 allows one line note, so they share it.
func ublLineNote(l Line, documentPeriod Period) string {
	var parts []string
	if l.Period != (Period{}) && l.Period != documentPeriod && !strings.Contains(l.Description, l.Period.String()) {
		parts = append(parts, "Usage of period "+l.Period.String())
	}
	if l.Concerns != "" && !strings.Contains(l.Description, l.Concerns) {
		parts = append(parts, "Concerns invoice "+l.Concerns)
	}
	return strings.Join(parts, "; ")
}

// The UBL 2.1 documents, their elements in the order the schema wants them.

type ublInvoice struct {
	XMLName         xml.Name `xml:"Invoice"`
	XMLNamespace    string   `xml:"xmlns,attr"`
	XMLNamespaceCAC string   `xml:"xmlns:cac,attr"`
	XMLNamespaceCBC string   `xml:"xmlns:cbc,attr"`

	CustomizationID string           `xml:"cbc:CustomizationID"`
	ProfileID       string           `xml:"cbc:ProfileID"`
	ID              string           `xml:"cbc:ID"`
	IssueDate       string           `xml:"cbc:IssueDate"`
	DueDate         string           `xml:"cbc:DueDate"`
	InvoiceTypeCode string           `xml:"cbc:InvoiceTypeCode"`
	Note            string           `xml:"cbc:Note,omitempty"`
	Currency        string           `xml:"cbc:DocumentCurrencyCode"`
	BuyerReference  string           `xml:"cbc:BuyerReference,omitempty"`
	InvoicePeriod   *ublPeriod       `xml:"cac:InvoicePeriod"`
	Supplier        ublSupplierParty `xml:"cac:AccountingSupplierParty"`
	Customer        ublCustomerParty `xml:"cac:AccountingCustomerParty"`
	PaymentMeans    *ublPaymentMeans `xml:"cac:PaymentMeans"`
	PaymentTerms    *ublPaymentTerms `xml:"cac:PaymentTerms"`
	TaxTotal        ublTaxTotal      `xml:"cac:TaxTotal"`
	Totals          ublMonetaryTotal `xml:"cac:LegalMonetaryTotal"`
	Lines           []ublLine        `xml:"cac:InvoiceLine"`
}

type ublCreditNote struct {
	XMLName         xml.Name `xml:"CreditNote"`
	XMLNamespace    string   `xml:"xmlns,attr"`
	XMLNamespaceCAC string   `xml:"xmlns:cac,attr"`
	XMLNamespaceCBC string   `xml:"xmlns:cbc,attr"`

	CustomizationID    string              `xml:"cbc:CustomizationID"`
	ProfileID          string              `xml:"cbc:ProfileID"`
	ID                 string              `xml:"cbc:ID"`
	IssueDate          string              `xml:"cbc:IssueDate"`
	CreditNoteTypeCode string              `xml:"cbc:CreditNoteTypeCode"`
	Note               string              `xml:"cbc:Note,omitempty"`
	Currency           string              `xml:"cbc:DocumentCurrencyCode"`
	BuyerReference     string              `xml:"cbc:BuyerReference,omitempty"`
	BillingReference   ublBillingReference `xml:"cac:BillingReference"`
	Supplier           ublSupplierParty    `xml:"cac:AccountingSupplierParty"`
	Customer           ublCustomerParty    `xml:"cac:AccountingCustomerParty"`
	PaymentTerms       *ublPaymentTerms    `xml:"cac:PaymentTerms"`
	TaxTotal           ublTaxTotal         `xml:"cac:TaxTotal"`
	Totals             ublMonetaryTotal    `xml:"cac:LegalMonetaryTotal"`
	Lines              []ublLine           `xml:"cac:CreditNoteLine"`
}

type ublAmount struct {
	CurrencyID string `xml:"currencyID,attr"`
	Value      string `xml:",chardata"`
}

type ublQuantity struct {
	UnitCode string `xml:"unitCode,attr"`
	Value    string `xml:",chardata"`
}

type ublIdentifier struct {
	SchemeID string `xml:"schemeID,attr"`
	Value    string `xml:",chardata"`
}

type ublPeriod struct {
	StartDate string `xml:"cbc:StartDate"`
	EndDate   string `xml:"cbc:EndDate"`
}

type ublDocumentReference struct {
	ID        string `xml:"cbc:ID"`
	IssueDate string `xml:"cbc:IssueDate,omitempty"`
}

type ublBillingReference struct {
	InvoiceDocumentReference ublDocumentReference `xml:"cac:InvoiceDocumentReference"`
}

type ublSupplierParty struct {
	Party ublParty `xml:"cac:Party"`
}

type ublCustomerParty struct {
	Party ublParty `xml:"cac:Party"`
}

type ublParty struct {
	EndpointID          *ublIdentifier          `xml:"cbc:EndpointID"`
	PartyIdentification *ublPartyIdentification `xml:"cac:PartyIdentification"`
	PartyName           *ublPartyName           `xml:"cac:PartyName"`
	PostalAddress       ublAddress              `xml:"cac:PostalAddress"`
	PartyTaxScheme      *ublPartyTaxScheme      `xml:"cac:PartyTaxScheme"`
	PartyLegalEntity    ublPartyLegalEntity     `xml:"cac:PartyLegalEntity"`
	Contact             *ublContact             `xml:"cac:Contact"`
}

type ublPartyIdentification struct {
	ID string `xml:"cbc:ID"`
}

type ublPartyName struct {
	Name string `xml:"cbc:Name"`
}

type ublAddress struct {
	StreetName string     `xml:"cbc:StreetName,omitempty"`
	CityName   string     `xml:"cbc:CityName,omitempty"`
	PostalZone string     `xml:"cbc:PostalZone,omitempty"`
	Country    ublCountry `xml:"cac:Country"`
}

type ublCountry struct {
	IdentificationCode string `xml:"cbc:IdentificationCode"`
}

type ublPartyTaxScheme struct {
	CompanyID string       `xml:"cbc:CompanyID"`
	TaxScheme ublTaxScheme `xml:"cac:TaxScheme"`
}

type ublTaxScheme struct {
	ID string `xml:"cbc:ID"`
}

type ublPartyLegalEntity struct {
	RegistrationName string `xml:"cbc:RegistrationName"`
}

type ublContact struct {
	ElectronicMail string `xml:"cbc:ElectronicMail"`
}

// ublPaymentMeans says how to pay (BG-16): a SEPA credit transfer (code 58) to the seller's
// IBAN, quoting the invoice number.
type ublPaymentMeans struct {
	Code      string `xml:"cbc:PaymentMeansCode"`
	PaymentID string `xml:"cbc:PaymentID"`
	Account   struct {
		ID string `xml:"cbc:ID"`
	} `xml:"cac:PayeeFinancialAccount"`
}

type ublPaymentTerms struct {
	Note string `xml:"cbc:Note"`
}

type ublTaxTotal struct {
	TaxAmount ublAmount        `xml:"cbc:TaxAmount"`
	Subtotals []ublTaxSubtotal `xml:"cac:TaxSubtotal"`
}

type ublTaxSubtotal struct {
	TaxableAmount ublAmount      `xml:"cbc:TaxableAmount"`
	TaxAmount     ublAmount      `xml:"cbc:TaxAmount"`
	TaxCategory   ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublTaxCategory struct {
	ID                     string       `xml:"cbc:ID"`
	Percent                string       `xml:"cbc:Percent,omitempty"`
	TaxExemptionReasonCode string       `xml:"cbc:TaxExemptionReasonCode,omitempty"`
	TaxExemptionReason     string       `xml:"cbc:TaxExemptionReason,omitempty"`
	TaxScheme              ublTaxScheme `xml:"cac:TaxScheme"`
}

type ublMonetaryTotal struct {
	LineExtensionAmount ublAmount `xml:"cbc:LineExtensionAmount"`
	TaxExclusiveAmount  ublAmount `xml:"cbc:TaxExclusiveAmount"`
	TaxInclusiveAmount  ublAmount `xml:"cbc:TaxInclusiveAmount"`
	PayableAmount       ublAmount `xml:"cbc:PayableAmount"`
}

// ublLine is an InvoiceLine or a CreditNoteLine: they differ in the name of the quantity.
type ublLine struct {
	ID                  string       `xml:"cbc:ID"`
	Note                string       `xml:"cbc:Note,omitempty"`
	InvoicedQuantity    *ublQuantity `xml:"cbc:InvoicedQuantity"`
	CreditedQuantity    *ublQuantity `xml:"cbc:CreditedQuantity"`
	LineExtensionAmount ublAmount    `xml:"cbc:LineExtensionAmount"`
	Item                ublItem      `xml:"cac:Item"`
	Price               ublPrice     `xml:"cac:Price"`
}

type ublItem struct {
	Description           string         `xml:"cbc:Description,omitempty"`
	Name                  string         `xml:"cbc:Name"`
	ClassifiedTaxCategory ublTaxCategory `xml:"cac:ClassifiedTaxCategory"`
}

type ublPrice struct {
	PriceAmount ublAmount `xml:"cbc:PriceAmount"`
}

// MissingForPEPPOL says what a customer's invoices need to pass PEPPOL BIS Billing 3.0 as an
// access point checks it, and the customer's details lack (empty: nothing): an electronic
// address from PEPPOL's list (PEPPOL-EN16931-R010, -CL008; an e-mail address is not one), and,
// for a Dutch customer of a Dutch seller, street, city and postal code (NL-R-004). The
// documents are valid EN 16931 either way.
func MissingForPEPPOL(customer Party, sellerCountry string) []string {
	var missing []string
	if e := ublEndpointOf(customer); e == nil || !ledger.PeppolScheme(e.SchemeID) {
		missing = append(missing, "an electronic address PEPPOL accepts: a vat_id of an EU country or a peppol_id (PEPPOL-EN16931-R010; an e-mail address is not one)")
	}
	if sellerCountry == "NL" && customer.Country == "NL" && (customer.Street == "" || customer.City == "" || customer.PostalCode == "") {
		missing = append(missing, "address with street, city and postal_code (PEPPOL NL-R-004, a Dutch customer)")
	}
	return missing
}
