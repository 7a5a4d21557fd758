package invoices_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/invoices"
	"ledger/invoices/ubltest"
	"ledger/ledger"
)

// The helpers of the export tests carry an export prefix: the package's other tests are being
// written beside them.

func exportDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func exportDate(s string) clock.LocalDate {
	d, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var exportMarch = invoices.Period{Year: 2026, Month: time.March}

// exportSeller is the provider as its invoices name it.
var exportSeller = invoices.Party{
	Name: "Voxtel B.V.", Country: "NL", VATID: "NL859245371B01", Email: "billing@voxtel.example",
	Street: "Keizersgracht 100", City: "Amsterdam", PostalCode: "1015 CV", IBAN: "NL91ABNA0417164300",
}

var (
	// A Dutch customer without a VAT ID, reached on PEPPOL by its KvK number (0106).
	exportNL = invoices.Party{ID: "acme", Name: "Acme Bakeries B.V.", Country: "NL", Email: "ap@acme.example",
		Street: "Dorpsstraat 1", City: "Utrecht", PostalCode: "3511 AA", PeppolID: "0106:12345678"}
	exportDE = invoices.Party{ID: "kraut", Name: "Kraut Kommunikation GmbH", Country: "DE", VATID: "DE123456789",
		Email: "rechnung@kraut.example", Street: "Hauptstraße 5", City: "Berlin", PostalCode: "10115"}
	// A customer outside the EU with a VAT number of its own, which the invoice must not show (BR-O-02).
	exportGB = invoices.Party{ID: "albion", Name: "Albion Messaging Ltd", Country: "GB", VATID: "GB123456789",
		Email: "accounts@albion.example", City: "London", PeppolID: "9932:GB123456789"}
)

// exportLine is an invoice line.
func exportLine(kind, description, quantity, unit, unitPrice, amount string) invoices.Line {
	return invoices.Line{Kind: kind, Description: description, Period: exportMarch,
		Quantity: exportDec(quantity), Unit: unit, UnitPrice: exportDec(unitPrice), Amount: exportDec(amount)}
}

// exportInvoice is an invoice of March 2026 with the hand-computed totals of its case; the writer
// refuses it if they do not add up from its lines as Breakdown does.
func exportInvoice(number string, customer invoices.Party, net, tax, total string, lines ...invoices.Line) invoices.Invoice {
	vat, err := invoices.VATFor(customer.Country, customer.VATID)
	if err != nil {
		panic(err)
	}
	inv := invoices.Invoice{Number: number, Account: customer.ID, Customer: customer, Period: exportMarch,
		IssueDate: exportDate("2026-04-01"), DueDate: exportDate("2026-04-15"), Currency: "EUR",
		Lines: lines, VAT: vat, Net: exportDec(net), Tax: exportDec(tax), Total: exportDec(total)}
	if vat.Note != "" {
		inv.Notes = append(inv.Notes, vat.Note)
	}
	return inv
}

type ublSubtotal struct{ category, percent, taxable, tax, exemptionCode string }

// ublCase is a document and what it must say: the totals computed by hand.
type ublCase struct {
	name       string
	invoice    *invoices.Invoice
	creditNote *invoices.CreditNote
	net        string
	tax        string
	total      string
	subtotals  []ublSubtotal
	check      func(t *testing.T, doc ublParsed)
}

func ublCases() []ublCase {
	nl := exportInvoice("INV-2026-000001", exportNL, "87.50", "18.38", "105.88",
		exportLine(invoices.LineUsage, "SMS NL", "1000", invoices.UnitPiece, "0.075000", "75.00"),
		exportLine(invoices.LineUsage, "MMS NL", "50", invoices.UnitPiece, "0.250000", "12.50"))

	de := exportInvoice("INV-2026-000002", exportDE, "146.97", "0.00", "146.97",
		exportLine(invoices.LineUsage, "WhatsApp DE", "2000", invoices.UnitPiece, "0.060000", "120.00"),
		// 333 × 0.081 = 26.973: the sum of the charges, rounded to cents (R5)
		exportLine(invoices.LineUsage, "SMS DE", "333", invoices.UnitPiece, "0.081000", "26.97"))

	gb := exportInvoice("INV-2026-000003", exportGB, "350.00", "0.00", "350.00",
		exportLine(invoices.LineUsage, "SMS GB", "10000", invoices.UnitPiece, "0.035000", "350.00"))

	// R6: interest and collection costs on their own lines naming their invoice, without VAT
	// (compensation, not a supply); a credit on its own line, negative, under the invoice's VAT.
	// S: 150.00 − 25.00 = 125.00, VAT 26.25; E: 3.47 + 40.00 = 43.47, VAT 0.
	noVAT := invoices.NoVAT(nl.VAT)
	late := exportInvoice("INV-2026-000004", exportNL, "168.47", "26.25", "194.72",
		exportLine(invoices.LineUsage, "SMS NL", "2000", invoices.UnitPiece, "0.075000", "150.00"),
		invoices.Line{Kind: invoices.LineInterest, Description: "Late payment interest", Concerns: "INV-2026-000001",
			Quantity: exportDec("1"), Unit: invoices.UnitPiece, UnitPrice: exportDec("3.47"), Amount: exportDec("3.47"), VAT: &noVAT},
		invoices.Line{Kind: invoices.LineCollectionCosts, Description: "Collection costs", Concerns: "INV-2026-000001",
			Quantity: exportDec("1"), Unit: invoices.UnitPiece, UnitPrice: exportDec("40"), Amount: exportDec("40.00"), VAT: &noVAT},
		invoices.Line{Kind: invoices.LineCredit, Description: "Credit: goodwill", Concerns: "INV-2026-000002",
			Quantity: exportDec("1"), Unit: invoices.UnitPiece, UnitPrice: exportDec("-25"), Amount: exportDec("-25.00")})
	late.Notes = append(late.Notes, noVAT.Note)

	// R5: an event that arrived after February's invoice goes on March's, marked with its period.
	lateUsage := exportLine(invoices.LineUsage, "SMS NL", "20", invoices.UnitPiece, "0.075000", "1.50")
	lateUsage.Period = invoices.Period{Year: 2026, Month: time.February}
	ownPeriod := exportInvoice("INV-2026-000005", exportNL, "76.50", "16.07", "92.57",
		exportLine(invoices.LineUsage, "SMS NL", "1000", invoices.UnitPiece, "0.075000", "75.00"),
		lateUsage) // 76.50 × 0.21 = 16.065 → 16.07, half away from zero

	// Voice is billed by the second and shown in minutes: 74071 s = 1234.516667 min at 0.012 per
	// minute = 14.8142 → 14.81; one call of 61 s = 1.016667 min at 0.12 = 0.122 → 0.12.
	// 14.93 × 0.21 = 3.1353 → 3.14.
	voice := exportInvoice("INV-2026-000006", exportNL, "14.93", "3.14", "18.07",
		exportLine(invoices.LineUsage, "Voice NL mobile", "1234.516667", invoices.UnitMinute, "0.012000", "14.81"),
		exportLine(invoices.LineUsage, "Voice NL premium", "1.016667", invoices.UnitMinute, "0.120000", "0.12"))

	// A unit price that does not give the amount (an average over tiers): 10000 × 0.01 = 100.00,
	// charged 95.00. 95.00 × 0.21 = 19.95.
	tiered := exportInvoice("INV-2026-000007", exportNL, "95.00", "19.95", "114.95",
		exportLine(invoices.LineUsage, "SMS US", "10000", invoices.UnitPiece, "0.010000", "95.00"))

	special := invoices.Party{ID: "o'brien", Name: `O'Brien & Zonen <"Telecom"> ]]> Ωmega`, Country: "NL",
		VATID: "NL001234567B01", Street: "Straat & Plein 1 <achter>", City: "'s-Hertogenbosch", PostalCode: "5211 AA"}
	specials := exportInvoice("INV-2026-000008", special, "10.00", "2.10", "12.10",
		exportLine(invoices.LineUsage, `SMS "NL" <mobile> & more ]]>`, "100", invoices.UnitPiece, "0.100000", "10.00"))
	specials.Notes = []string{"Note with <markup> & \"quotes\""}

	credit := invoices.CreditNote{Number: "CN-2026-000001", Account: "acme", Customer: exportNL,
		InvoiceNumber: "INV-2026-000001", InvoiceIssueDate: exportDate("2026-04-01"), IssueDate: exportDate("2026-04-10"),
		Currency: "EUR", Reason: "dispute accepted: SMS NL delivered twice", VAT: nl.VAT,
		Lines: []invoices.Line{exportLine(invoices.LineCredit, "SMS NL delivered twice", "1", invoices.UnitPiece, "10.00", "10.00")},
		Net:   exportDec("10.00"), Tax: exportDec("2.10"), Total: exportDec("12.10")}
	// The last part of an invoice disputed in parts: 0.14 credited as 0.12 net and 0.02 VAT, a cent
	// below 0.12 × 0.21 = 0.0252 → 0.03, so that the parts add up to the invoice (SplitDispute).
	lastPart := invoices.CreditNote{Number: "CN-2026-000002", Account: "acme", Customer: exportNL,
		InvoiceNumber: "INV-2026-000001", InvoiceIssueDate: exportDate("2026-04-01"), IssueDate: exportDate("2026-04-10"),
		Currency: "EUR", Reason: "dispute accepted: the rest", VAT: nl.VAT,
		Lines:     []invoices.Line{exportLine(invoices.LineCredit, "the rest", "1", invoices.UnitPiece, "0.12", "0.12")},
		Breakdown: []invoices.TaxSubtotal{{VAT: nl.VAT, Taxable: exportDec("0.12"), Tax: exportDec("0.02")}},
		Net:       exportDec("0.12"), Tax: exportDec("0.02"), Total: exportDec("0.14")}

	return []ublCase{
		{name: "R5_NL_21_percent", invoice: &nl, net: "87.50", tax: "18.38", total: "105.88",
			subtotals: []ublSubtotal{{"S", "21", "87.50", "18.38", ""}},
			check: func(t *testing.T, doc ublParsed) {
				buyer := doc.Customer.Party
				if len(buyer.PartyTaxScheme) != 0 {
					t.Errorf("a customer without a VAT ID shows one: %+v", buyer.PartyTaxScheme)
				}
				if buyer.EndpointID.SchemeID != "0106" || buyer.EndpointID.Value != "12345678" {
					t.Errorf("buyer endpoint %+v, want its peppol_id, KvK 0106:12345678", buyer.EndpointID)
				}
				ublWant(t, "seller VAT ID", ublVATID(doc.Supplier.Party), exportSeller.VATID)
				ublWant(t, "seller endpoint", doc.Supplier.Party.EndpointID.SchemeID+":"+doc.Supplier.Party.EndpointID.Value, "9944:"+exportSeller.VATID)
				ublWant(t, "due date", doc.DueDate, "2026-04-15")
				pm := doc.PaymentMeans
				ublWant(t, "payment means", pm.PaymentMeansCode+" "+pm.PaymentID+" "+pm.PayeeFinancialAccount.ID, "58 "+doc.ID+" "+exportSeller.IBAN)
				ublWant(t, "invoice period", doc.InvoicePeriod.StartDate+"/"+doc.InvoicePeriod.EndDate, "2026-03-01/2026-03-31")
				ublWant(t, "line 1 quantity", doc.lines()[0].InvoicedQuantity.Value+" "+doc.lines()[0].InvoicedQuantity.UnitCode, "1000 C62")
				ublWant(t, "line 1 price", doc.lines()[0].Price.PriceAmount.Value, "0.075000")
			}},
		{name: "R5_EU_reverse_charge_AE", invoice: &de, net: "146.97", tax: "0.00", total: "146.97",
			subtotals: []ublSubtotal{{"AE", "0", "146.97", "0.00", "VATEX-EU-AE"}},
			check: func(t *testing.T, doc ublParsed) {
				ublWant(t, "buyer VAT ID", ublVATID(doc.Customer.Party), "DE123456789")
				ublWant(t, "buyer endpoint", doc.Customer.Party.EndpointID.SchemeID, "9930")
				ublWant(t, "exemption reason", doc.TaxTotal[0].TaxSubtotal[0].TaxCategory.TaxExemptionReason, "Reverse charge")
				if len(doc.Note) != 1 || !strings.Contains(doc.Note[0], "Reverse charge") || !strings.Contains(doc.Note[0], "DE123456789") {
					t.Errorf("note %q: want one note saying Reverse charge with the customer's VAT ID (R5)", doc.Note)
				}
			}},
		{name: "R5_outside_EU_O", invoice: &gb, net: "350.00", tax: "0.00", total: "350.00",
			subtotals: []ublSubtotal{{"O", "", "350.00", "0.00", "VATEX-EU-O"}},
			check: func(t *testing.T, doc ublParsed) {
				// BR-O-02: no VAT identifiers; BR-CO-26: the seller still identified.
				if len(doc.Supplier.Party.PartyTaxScheme)+len(doc.Customer.Party.PartyTaxScheme) != 0 {
					t.Errorf("VAT identifiers on an invoice outside the scope of VAT (BR-O-02)")
				}
				if len(doc.Supplier.Party.PartyIdentification) != 1 || doc.Supplier.Party.PartyIdentification[0].ID != exportSeller.VATID {
					t.Errorf("seller identifier %+v, want the VAT number (BR-CO-26)", doc.Supplier.Party.PartyIdentification)
				}
				if p := doc.lines()[0].Item.ClassifiedTaxCategory.Percent; p != "" {
					t.Errorf("line VAT rate %q on category O (BR-O-05)", p)
				}
			}},
		{name: "R6_interest_collection_costs_and_credit_lines", invoice: &late, net: "168.47", tax: "26.25", total: "194.72",
			subtotals: []ublSubtotal{{"S", "21", "125.00", "26.25", ""}, {"E", "0", "43.47", "0.00", ""}},
			check: func(t *testing.T, doc ublParsed) {
				lines := doc.lines()
				ublWant(t, "interest line note", strings.Join(lines[1].Note, "|"), "Concerns invoice INV-2026-000001")
				ublWant(t, "interest line category", lines[1].Item.ClassifiedTaxCategory.ID, "E")
				ublWant(t, "credit line", lines[3].InvoicedQuantity.Value+" × "+lines[3].Price.PriceAmount.Value+" = "+lines[3].LineExtensionAmount.Value,
					"-1 × 25.000000 = -25.00") // BR-27: the price is never negative
				ublWant(t, "credit line category", lines[3].Item.ClassifiedTaxCategory.ID, "S")
			}},
		{name: "R5_late_usage_with_its_own_period", invoice: &ownPeriod, net: "76.50", tax: "16.07", total: "92.57",
			subtotals: []ublSubtotal{{"S", "21", "76.50", "16.07", ""}},
			check: func(t *testing.T, doc ublParsed) {
				lines := doc.lines()
				if len(lines[0].Note) != 0 {
					t.Errorf("a line of the invoice's own period has a note: %q", lines[0].Note)
				}
				ublWant(t, "late line note", strings.Join(lines[1].Note, "|"), "Usage of period 2026-02")
			}},
		{name: "R2_voice_minutes_fractional_quantity", invoice: &voice, net: "14.93", tax: "3.14", total: "18.07",
			subtotals: []ublSubtotal{{"S", "21", "14.93", "3.14", ""}},
			check: func(t *testing.T, doc ublParsed) {
				q := doc.lines()[0].InvoicedQuantity
				ublWant(t, "voice quantity", q.Value+" "+q.UnitCode, "1234.516667 MIN")
				ublWant(t, "voice price", doc.lines()[0].Price.PriceAmount.Value, "0.012000")
			}},
		{name: "PEPPOL_R120_unit_price_not_giving_the_amount", invoice: &tiered, net: "95.00", tax: "19.95", total: "114.95",
			subtotals: []ublSubtotal{{"S", "21", "95.00", "19.95", ""}},
			check: func(t *testing.T, doc ublParsed) {
				l := doc.lines()[0]
				ublWant(t, "line shown as", l.InvoicedQuantity.Value+" "+l.InvoicedQuantity.UnitCode+" × "+l.Price.PriceAmount.Value, "1 C62 × 95.00")
				ublWant(t, "item description", l.Item.Description, "SMS US: 10000 C62 at 0.010000 EUR")
			}},
		{name: "XML_special_characters", invoice: &specials, net: "10.00", tax: "2.10", total: "12.10",
			subtotals: []ublSubtotal{{"S", "21", "10.00", "2.10", ""}},
			check: func(t *testing.T, doc ublParsed) {
				ublWant(t, "customer name", doc.Customer.Party.PartyLegalEntity.RegistrationName, special.Name)
				ublWant(t, "street", doc.Customer.Party.PostalAddress.StreetName, special.Street)
				ublWant(t, "city", doc.Customer.Party.PostalAddress.CityName, special.City)
				ublWant(t, "item name", doc.lines()[0].Item.Name, `SMS "NL" <mobile> & more ]]>`)
				ublWant(t, "note", strings.Join(doc.Note, "|"), "Note with <markup> & \"quotes\"")
				ublWant(t, "buyer VAT ID", ublVATID(doc.Customer.Party), "NL001234567B01")
			}},
		{name: "R7_credit_note_last_part_VAT_a_cent_off", creditNote: &lastPart, net: "0.12", tax: "0.02", total: "0.14",
			subtotals: []ublSubtotal{{"S", "21", "0.12", "0.02", ""}}},
		{name: "R7_credit_note", creditNote: &credit, net: "10.00", tax: "2.10", total: "12.10",
			subtotals: []ublSubtotal{{"S", "21", "10.00", "2.10", ""}},
			check: func(t *testing.T, doc ublParsed) {
				ref := doc.BillingReference.InvoiceDocumentReference
				ublWant(t, "credited invoice", ref.ID+" of "+ref.IssueDate, "INV-2026-000001 of 2026-04-01")
				ublWant(t, "credited quantity", doc.CreditNoteLine[0].CreditedQuantity.Value, "1")
				if len(doc.Note) != 1 || !strings.Contains(doc.Note[0], "delivered twice") {
					t.Errorf("note %q: want the reason of the credit", doc.Note)
				}
			}},
	}
}

// TestUBL writes every case, reads it back, checks what it says, and then has the European
// Commission's EN 16931 rules validate all of them in one run.
func TestUBL(t *testing.T) {
	dir := t.TempDir()
	var written []string
	for _, c := range ublCases() {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			var err error
			if c.invoice != nil {
				err = invoices.WriteUBLInvoice(&buf, *c.invoice, exportSeller)
			} else {
				err = invoices.WriteUBLCreditNote(&buf, *c.creditNote, exportSeller)
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, c.name+".xml")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			written = append(written, path)

			var doc ublParsed
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("the document does not parse back: %v", err)
			}
			c.checkCommon(t, doc)
			if c.check != nil {
				c.check(t, doc)
			}
		})
	}
	t.Run("EN_16931_validation", func(t *testing.T) {
		if len(written) == 0 {
			t.Fatal("no documents written")
		}
		// A canary: the first document with its payable amount off by a cent must fail, so that a
		// validator that passes everything does not pass this test.
		canary := filepath.Join(dir, "canary_BR-CO-16.xml")
		good, err := os.ReadFile(written[0])
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(string(good), `<cbc:PayableAmount currencyID="EUR">105.88<`, `<cbc:PayableAmount currencyID="EUR">105.89<`, 1)
		if bad == string(good) {
			t.Fatal("canary: the payable amount of the first case was not found")
		}
		if err := os.WriteFile(canary, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		ubltest.Run(t, written, []string{canary})
	})
}

// checkCommon checks what every document says: the PEPPOL identifiers, the totals of the case,
// and that the lines add up to the net amount (BR-CO-10).
func (c ublCase) checkCommon(t *testing.T, doc ublParsed) {
	t.Helper()
	wantRoot, wantType, typeCode := "Invoice", "380", doc.InvoiceTypeCode
	wantLines := 0
	if c.invoice != nil {
		wantLines = len(c.invoice.Lines)
	} else {
		wantRoot, wantType, typeCode = "CreditNote", "381", doc.CreditNoteTypeCode
		wantLines = len(c.creditNote.Lines)
	}
	ublWant(t, "root", doc.XMLName.Space+" "+doc.XMLName.Local, "urn:oasis:names:specification:ubl:schema:xsd:"+wantRoot+"-2 "+wantRoot)
	ublWant(t, "type code", typeCode, wantType)
	ublWant(t, "CustomizationID", doc.CustomizationID, "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0")
	ublWant(t, "ProfileID", doc.ProfileID, "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
	ublWant(t, "currency", doc.DocumentCurrencyCode, "EUR")
	if len(doc.Note) > 1 {
		t.Errorf("%d notes: PEPPOL-EN16931-R002 allows one", len(doc.Note))
	}
	totals := doc.LegalMonetaryTotal
	ublWant(t, "LineExtensionAmount", totals.LineExtensionAmount.Value, c.net)
	ublWant(t, "TaxExclusiveAmount", totals.TaxExclusiveAmount.Value, c.net)
	ublWant(t, "TaxInclusiveAmount", totals.TaxInclusiveAmount.Value, c.total)
	ublWant(t, "PayableAmount", totals.PayableAmount.Value, c.total)
	if len(doc.TaxTotal) != 1 {
		t.Fatalf("%d tax totals, want 1 (PEPPOL-EN16931-R053)", len(doc.TaxTotal))
	}
	ublWant(t, "TaxAmount", doc.TaxTotal[0].TaxAmount.Value, c.tax)
	var got []ublSubtotal
	for _, s := range doc.TaxTotal[0].TaxSubtotal {
		got = append(got, ublSubtotal{s.TaxCategory.ID, s.TaxCategory.Percent, s.TaxableAmount.Value, s.TaxAmount.Value, s.TaxCategory.TaxExemptionReasonCode})
	}
	if len(got) != len(c.subtotals) {
		t.Errorf("VAT breakdown %+v, want %+v", got, c.subtotals)
	} else {
		for i := range got {
			if got[i] != c.subtotals[i] {
				t.Errorf("VAT breakdown %d: %+v, want %+v", i, got[i], c.subtotals[i])
			}
		}
	}
	lines := doc.lines()
	if len(lines) != wantLines {
		t.Fatalf("%d lines, want %d", len(lines), wantLines)
	}
	sum := decimal.Zero
	for _, l := range lines {
		sum = sum.Add(exportDec(l.LineExtensionAmount.Value))
	}
	if !sum.Equal(exportDec(c.net)) {
		t.Errorf("lines add up to %s, want %s (BR-CO-10)", sum, c.net)
	}
}

func ublWant(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func ublVATID(p ublParsedParty) string {
	for _, s := range p.PartyTaxScheme {
		if s.TaxScheme.ID == "VAT" {
			return s.CompanyID
		}
	}
	return ""
}

// TestUBLRefuses: a document that would not be valid, or does not add up, is not written.
func TestUBLRefuses(t *testing.T) {
	base := func() invoices.Invoice {
		return exportInvoice("INV-2026-000009", exportDE, "120.00", "0.00", "120.00",
			exportLine(invoices.LineUsage, "WhatsApp DE", "2000", invoices.UnitPiece, "0.060000", "120.00"))
	}
	for _, c := range []struct {
		name   string
		change func(inv *invoices.Invoice, seller *invoices.Party)
	}{
		{"invariant_4_total_off_by_a_cent", func(inv *invoices.Invoice, _ *invoices.Party) { inv.Total = exportDec("120.01") }},
		{"invariant_4_line_changed", func(inv *invoices.Invoice, _ *invoices.Party) { inv.Lines[0].Amount = exportDec("119.99") }},
		{"R5_line_amount_not_in_cents", func(inv *invoices.Invoice, _ *invoices.Party) {
			inv.Lines[0].Amount = exportDec("119.995")
			inv.Net, inv.Total = exportDec("119.995"), exportDec("119.995")
		}},
		{"BR-AE-02_reverse_charge_without_customer_VAT_ID", func(inv *invoices.Invoice, _ *invoices.Party) { inv.Customer.VATID = "" }},
		{"BR-S-02_seller_without_VAT_ID", func(_ *invoices.Invoice, seller *invoices.Party) { seller.VATID = "" }},
		{"BR-16_no_lines", func(inv *invoices.Invoice, _ *invoices.Party) {
			inv.Lines = nil
			inv.Net, inv.Total = decimal.Zero, decimal.Zero
		}},
		{"BR-25_line_without_description", func(inv *invoices.Invoice, _ *invoices.Party) { inv.Lines[0].Description = " " }},
		{"BR-O-11_category_O_beside_another", func(inv *invoices.Invoice, _ *invoices.Party) {
			o := invoices.VAT{Category: "O", Rate: decimal.Zero, ExemptionCode: "VATEX-EU-O"}
			inv.Lines = append(inv.Lines, invoices.Line{Description: "Out of scope", Quantity: exportDec("1"),
				UnitPrice: exportDec("1"), Amount: exportDec("1.00"), VAT: &o})
			inv.Net, inv.Total = exportDec("121.00"), exportDec("121.00")
		}},
		{"EUR_only", func(inv *invoices.Invoice, _ *invoices.Party) { inv.Currency = "USD" }},
		{"due_before_issue", func(inv *invoices.Invoice, _ *invoices.Party) { inv.DueDate = exportDate("2026-03-31") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv, seller := base(), exportSeller
			inv.Lines = append([]invoices.Line(nil), inv.Lines...)
			c.change(&inv, &seller)
			var buf bytes.Buffer
			err := invoices.WriteUBLInvoice(&buf, inv, seller)
			if err == nil {
				t.Fatal("written, want refused")
			}
			if code := ledger.ErrorCode(err); code != ledger.CodeInternal {
				t.Errorf("error code %s, want %s: %v", code, ledger.CodeInternal, err)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the refusal", buf.Len())
			}
		})
	}
	t.Run("R7_credit_note_names_its_invoice", func(t *testing.T) {
		cases := ublCases()
		cn := *cases[len(cases)-1].creditNote
		cn.InvoiceNumber = ""
		if err := invoices.WriteUBLCreditNote(&bytes.Buffer{}, cn, exportSeller); err == nil {
			t.Error("a credit note naming no invoice was written")
		}
	})
}

// TestUBLDeterministic: the same document gives the same bytes.
func TestUBLDeterministic(t *testing.T) {
	for _, c := range ublCases() {
		if c.invoice == nil {
			continue
		}
		var a, b bytes.Buffer
		if err := invoices.WriteUBLInvoice(&a, *c.invoice, exportSeller); err != nil {
			t.Fatal(err)
		}
		if err := invoices.WriteUBLInvoice(&b, *c.invoice, exportSeller); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two writes differ", c.name)
		}
	}
}

// BenchmarkWriteUBLInvoice: a typical invoice of 8 lines.
func BenchmarkWriteUBLInvoice(b *testing.B) {
	inv := exportInvoice("INV-2026-000010", exportNL, "1187.16", "249.30", "1436.46",
		exportLine(invoices.LineUsage, "SMS NL", "10000", invoices.UnitPiece, "0.075000", "750.00"),
		exportLine(invoices.LineUsage, "SMS DE", "1200", invoices.UnitPiece, "0.081000", "97.20"),
		exportLine(invoices.LineUsage, "MMS NL", "300", invoices.UnitPiece, "0.250000", "75.00"),
		exportLine(invoices.LineUsage, "Voice NL mobile", "1234.516667", invoices.UnitMinute, "0.012000", "14.81"),
		exportLine(invoices.LineUsage, "Voice NL fixed", "812.25", invoices.UnitMinute, "0.009000", "7.31"),
		exportLine(invoices.LineUsage, "WhatsApp NL", "3000", invoices.UnitPiece, "0.060000", "180.00"),
		exportLine(invoices.LineUsage, "RCS NL", "1000", invoices.UnitPiece, "0.040000", "40.00"),
		exportLine(invoices.LineSurcharge, "Surcharge SMS NL", "10000", invoices.UnitPiece, "0.002284", "22.84"))
	// 750 + 97.20 + 75 + 14.81 + 7.31 + 180 + 40 + 22.84 = 1187.16; × 0.21 = 249.3036 → 249.30
	if err := invoices.WriteUBLInvoice(&bytes.Buffer{}, inv, exportSeller); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := invoices.WriteUBLInvoice(io.Discard, inv, exportSeller); err != nil {
			b.Fatal(err)
		}
	}
}

// ublParsed is a UBL invoice or credit note read back by local names.
type ublParsed struct {
	XMLName              xml.Name
	CustomizationID      string
	ProfileID            string
	ID                   string
	IssueDate            string
	DueDate              string
	InvoiceTypeCode      string
	CreditNoteTypeCode   string
	Note                 []string
	DocumentCurrencyCode string
	BuyerReference       string
	InvoicePeriod        struct{ StartDate, EndDate string }
	BillingReference     struct {
		InvoiceDocumentReference struct{ ID, IssueDate string }
	}
	Supplier     struct{ Party ublParsedParty } `xml:"AccountingSupplierParty"`
	Customer     struct{ Party ublParsedParty } `xml:"AccountingCustomerParty"`
	PaymentMeans struct {
		PaymentMeansCode, PaymentID string
		PayeeFinancialAccount       struct{ ID string }
	}
	TaxTotal []struct {
		TaxAmount   ublParsedAmount
		TaxSubtotal []struct {
			TaxableAmount ublParsedAmount
			TaxAmount     ublParsedAmount
			TaxCategory   ublParsedCategory
		}
	}
	LegalMonetaryTotal struct {
		LineExtensionAmount, TaxExclusiveAmount, TaxInclusiveAmount, PayableAmount ublParsedAmount
	}
	InvoiceLine    []ublParsedLine
	CreditNoteLine []ublParsedLine
}

func (d ublParsed) lines() []ublParsedLine { return append(d.InvoiceLine, d.CreditNoteLine...) }

type ublParsedAmount struct {
	CurrencyID string `xml:"currencyID,attr"`
	Value      string `xml:",chardata"`
}

type ublParsedQuantity struct {
	UnitCode string `xml:"unitCode,attr"`
	Value    string `xml:",chardata"`
}

type ublParsedCategory struct {
	ID, Percent, TaxExemptionReasonCode, TaxExemptionReason string
	TaxScheme                                               struct{ ID string }
}

type ublParsedParty struct {
	EndpointID struct {
		SchemeID string `xml:"schemeID,attr"`
		Value    string `xml:",chardata"`
	}
	PartyIdentification []struct{ ID string }
	PartyName           struct{ Name string }
	PostalAddress       struct {
		StreetName, CityName, PostalZone string
		Country                          struct{ IdentificationCode string }
	}
	PartyTaxScheme []struct {
		CompanyID string
		TaxScheme struct{ ID string }
	}
	PartyLegalEntity struct{ RegistrationName string }
}

type ublParsedLine struct {
	ID                  string
	Note                []string
	InvoicedQuantity    ublParsedQuantity
	CreditedQuantity    ublParsedQuantity
	LineExtensionAmount ublParsedAmount
	Item                struct {
		Description, Name     string
		ClassifiedTaxCategory ublParsedCategory
	}
	Price struct{ PriceAmount ublParsedAmount }
}

// PEPPOL BIS 3.0: what a customer's details lack for its invoices to pass an access point's
// checks, said on the account (the documents are valid EN 16931 either way).
func TestMissingForPEPPOL(t *testing.T) {
	address := invoices.Party{Street: "Dorpsstraat 1", City: "Utrecht", PostalCode: "3511 AA"}
	for _, c := range []struct {
		name  string
		party invoices.Party
		want  []string // rules named, in order
	}{
		{"NL with VAT ID and address", invoices.Party{Country: "NL", VATID: "NL123456789B01", Street: address.Street, City: address.City, PostalCode: address.PostalCode}, nil},
		{"NL with VAT ID, no address", invoices.Party{Country: "NL", VATID: "NL123456789B01"}, []string{"NL-R-004"}},
		{"NL with e-mail only", invoices.Party{Country: "NL", Email: "a@b.example", Street: address.Street, City: address.City, PostalCode: address.PostalCode},
			[]string{"PEPPOL-EN16931-R010"}},
		{"NL with KvK", invoices.Party{Country: "NL", PeppolID: "0106:12345678", Street: address.Street, City: address.City, PostalCode: address.PostalCode}, nil},
		{"DE with VAT ID, no address", invoices.Party{Country: "DE", VATID: "DE123456789"}, nil},
		{"US with nothing", invoices.Party{Country: "US"}, []string{"PEPPOL-EN16931-R010"}},
		{"NL with nothing", invoices.Party{Country: "NL"}, []string{"PEPPOL-EN16931-R010", "NL-R-004"}},
	} {
		got := invoices.MissingForPEPPOL(c.party, "NL")
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.Contains(got[i], c.want[i])
		}
		if !ok {
			t.Errorf("%s: %q, want the rules %v", c.name, got, c.want)
		}
	}
	// A seller outside the Netherlands: NL-R-004 is a Dutch seller's rule.
	if got := invoices.MissingForPEPPOL(invoices.Party{Country: "NL", VATID: "NL123456789B01"}, "BE"); len(got) != 0 {
		t.Errorf("a Belgian seller's Dutch customer: %q, want nothing missing", got)
	}
}
