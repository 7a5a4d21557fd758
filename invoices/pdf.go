package invoices

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/shopspring/decimal"

	"ledger/clock"
)

// The printable documents (CONTRACT 3.11): the same invoice and credit note as the UBL ones,
// laid out for a person — seller and buyer with their VAT ids, the lines, the VAT breakdown,
// the total, the due date, the IBAN and payment reference, and the mentions the UBL carries
// (reverse charge, outside the scope of VAT, due on issue or at once). The fonts are the PDF's
// standard Helvetica, written in Windows-1252: a character outside it (Ω, Chinese) prints as
// "?" — the UBL document carries every name exactly.

// WritePDFInvoice writes inv, issued by seller, as a PDF. dueNow, when set, is the date
// termination made it due at once (R13, T&C 10.7), printed beside its due date.
func WritePDFInvoice(w io.Writer, inv Invoice, seller Party, dueNow string) error {
	due := inv.DueDate.String()
	switch {
	case dueNow != "":
		due += ", due at once since " + dueNow + " (termination, T&C 10.7)"
	case inv.DueDate == inv.IssueDate:
		due += " (due on issue)"
	}
	d := pdfDocument{
		title: "Invoice", number: inv.Number, currency: inv.Currency, seller: seller, buyer: inv.Customer,
		facts: [][2]string{{"Invoice number", inv.Number}, {"Issue date", inv.IssueDate.String()}, {"Due date", due},
			{"Period", inv.Period.Start().In(clock.Amsterdam).Format("2006-01-02") + " to " + inv.Period.IssueDate().AddDays(-1).String()},
			{"Customer account", inv.Account}},
		lines: inv.Lines, vat: inv.VAT, breakdown: inv.Breakdown, net: inv.Net, tax: inv.Tax, total: inv.Total,
		notes: inv.Notes, pay: true, date: inv.IssueDate,
	}
	return d.write(w)
}

// WritePDFCreditNote writes cn, issued by seller, as a PDF naming the invoice it credits.
func WritePDFCreditNote(w io.Writer, cn CreditNote, seller Party) error {
	d := pdfDocument{
		title: "Credit note", number: cn.Number, currency: cn.Currency, seller: seller, buyer: cn.Customer,
		facts: [][2]string{{"Credit note number", cn.Number}, {"Issue date", cn.IssueDate.String()},
			{"Credits invoice", cn.InvoiceNumber + " of " + cn.InvoiceIssueDate.String()}, {"Reason", cn.Reason},
			{"Customer account", cn.Account}},
		lines: cn.Lines, vat: cn.VAT, breakdown: cn.Breakdown, net: cn.Net, tax: cn.Tax, total: cn.Total,
		notes: cn.Notes, date: cn.IssueDate,
	}
	return d.write(w)
}

// pdfDocument is what an invoice and a credit note print alike.
type pdfDocument struct {
	title, number, currency string
	seller, buyer           Party
	facts                   [][2]string
	lines                   []Line
	vat                     VAT
	breakdown               []TaxSubtotal
	net, tax, total         decimal.Decimal
	notes                   []string
	pay                     bool // an invoice asks to be paid: the payment means
	date                    clock.LocalDate
}

// unitNames name the UN/ECE units for people.
var unitNames = map[string]string{UnitPiece: "pcs", UnitMinute: "min", UnitHour: "h", UnitKm: "km"}

// UnitName is a line's unit as a person reads it (pcs, min, h, km); an unknown code as it is.
func UnitName(code string) string {
	if name, ok := unitNames[code]; ok {
		return name
	}
	return code
}

func (d pdfDocument) write(w io.Writer) error {
	if len(d.breakdown) == 0 { // a document made before breakdowns were stored: from its lines
		d.breakdown, _, _, _ = Breakdown(d.lines, d.vat)
	}
	if len(d.breakdown) == 0 {
		return fmt.Errorf("%s %s: no lines, no VAT breakdown", d.title, d.number)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	// The same bytes for the same document: dates from the document, not the clock.
	at := d.date.Start()
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(d.title+" "+d.number, true)
	pdf.SetAuthor(d.seller.Name, true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 to the core fonts' Windows-1252
	text := func(s string) string { return tr(s) }
	money := func(v decimal.Decimal) string { return d.currency + " " + v.StringFixed(2) }
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 7)
		pdf.SetTextColor(110, 110, 110)
		pdf.CellFormat(0, 4, text(fmt.Sprintf("%s %s, page %d of {nb}", d.title, d.number, pdf.PageNo())), "", 0, "R", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()
	width, _ := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	inner := width - left - right

	// Seller on the right, title on the left.
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(inner/2, 9, text(d.title), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	top := pdf.GetY()
	pdf.SetXY(left+inner/2, top)
	pdf.MultiCell(inner/2, 4.5, text(partyLines(d.seller, true)), "", "R", false)
	pdf.Ln(6)

	// Buyer on the left, the document's facts on the right.
	y := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 9)
	pdf.CellFormat(inner/2, 5, text("Bill to"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(inner/2-4, 4.5, text(partyLines(d.buyer, false)), "", "L", false)
	buyerEnd := pdf.GetY()
	pdf.SetXY(left+inner/2, y)
	for _, f := range d.facts {
		if f[1] == "" {
			continue
		}
		pdf.SetX(left + inner/2)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(32, 4.5, text(f[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(inner/2-32, 4.5, text(f[1]), "", "L", false)
	}
	pdf.SetY(max(buyerEnd, pdf.GetY()) + 6)

	// The lines.
	cols := []struct {
		head  string
		width float64
		align string
	}{{"Description", inner - 104, "L"}, {"Quantity", 22, "R"}, {"Unit", 12, "L"}, {"Unit price", 26, "R"}, {"Amount", 28, "R"}, {"VAT", 16, "R"}}
	pdf.SetFont("Helvetica", "B", 8.5)
	pdf.SetFillColor(235, 235, 235)
	for _, c := range cols {
		pdf.CellFormat(c.width, 6, text(c.head), "B", 0, c.align, true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 8.5)
	for _, l := range d.lines {
		description := l.Description
		if !l.Period.Start().IsZero() && l.Kind != LineInterest && l.Kind != LineCollectionCosts && l.Kind != LineCredit {
			description += " (" + l.Period.String() + ")"
		}
		if l.Concerns != "" {
			description += ", " + l.Concerns
		}
		wrapped := pdf.SplitText(text(description), cols[0].width-1)
		h := 4.5 * float64(max(1, len(wrapped)))
		if pdf.GetY()+h > 297-30 {
			pdf.AddPage()
		}
		x, y := pdf.GetXY()
		pdf.MultiCell(cols[0].width, 4.5, strings.Join(wrapped, "\n"), "", "L", false)
		pdf.SetXY(x+cols[0].width, y)
		vat := d.vat
		if l.VAT != nil {
			vat = *l.VAT
		}
		cells := []string{trimZeros(l.Quantity), UnitName(l.Unit), trimZeros(l.UnitPrice), l.Amount.StringFixed(2), vatLabel(vat)}
		for i, c := range cells {
			pdf.CellFormat(cols[i+1].width, 4.5, text(c), "", 0, cols[i+1].align, false, 0, "")
		}
		pdf.SetY(y + h)
	}
	pdf.Line(left, pdf.GetY()+1, left+inner, pdf.GetY()+1)
	pdf.Ln(4)

	// The VAT breakdown and the totals, right-aligned.
	pdf.SetFont("Helvetica", "B", 8.5)
	label, value := inner-40, 40.0
	row := func(k, v string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 9)
		pdf.CellFormat(label, 5, text(k), "", 0, "R", false, 0, "")
		pdf.CellFormat(value, 5, text(v), "", 1, "R", false, 0, "")
	}
	for _, s := range d.breakdown {
		row(fmt.Sprintf("VAT %s on %s", vatLabel(s.VAT), money(s.Taxable)), money(s.Tax), false)
	}
	row("Net", money(d.net), false)
	row("VAT", money(d.tax), false)
	row("Total", money(d.total), true)
	pdf.Ln(4)

	// Payment and the mentions.
	pdf.SetFont("Helvetica", "", 9)
	if d.pay && d.seller.IBAN != "" {
		pdf.MultiCell(inner, 4.5, text(fmt.Sprintf("Please pay %s by SEPA credit transfer to IBAN %s (%s), quoting the payment reference %s.",
			money(d.total), d.seller.IBAN, d.seller.Name, d.number)), "", "L", false)
		pdf.Ln(2)
	}
	for _, n := range d.mentions() {
		pdf.MultiCell(inner, 4.5, text(n), "", "L", false)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("%s %s: %w", d.title, d.number, err)
	}
	return pdf.Output(w)
}

// mentions are what the UBL note carries (mentions), and, for a document outside the scope of
// EU VAT, that said in words (the UBL says it in its tax category).
func (d pdfDocument) mentions() []string {
	out := mentions(d.notes, d.breakdown)
	for _, s := range d.breakdown {
		if s.VAT.Category == "O" {
			return append(out, "Not subject to VAT: outside the scope of EU VAT.")
		}
	}
	return out
}

// partyLines is a party's name, address, country and identifiers, one a line.
func partyLines(p Party, seller bool) string {
	lines := []string{p.Name}
	if p.Street != "" {
		lines = append(lines, p.Street)
	}
	if city := strings.TrimSpace(p.PostalCode + " " + p.City); city != "" {
		lines = append(lines, city)
	}
	lines = append(lines, p.Country)
	if p.VATID != "" {
		lines = append(lines, "VAT "+p.VATID)
	}
	if p.PeppolID != "" {
		lines = append(lines, "PEPPOL "+p.PeppolID)
	}
	if p.Email != "" {
		lines = append(lines, p.Email)
	}
	if seller && p.IBAN != "" {
		lines = append(lines, "IBAN "+p.IBAN)
	}
	return strings.Join(lines, "\n")
}

// vatLabel is a VAT category as printed: "21 %", "AE 0 %", "O".
func vatLabel(v VAT) string {
	switch v.Category {
	case "S":
		return v.Rate.Shift(2).String() + " %"
	case "O":
		return "O"
	}
	return v.Category + " " + v.Rate.Shift(2).String() + " %"
}

// trimZeros prints a decimal without trailing zeros after its point (1000, 0.075).
func trimZeros(v decimal.Decimal) string {
	s := v.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
