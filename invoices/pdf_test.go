package invoices_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ledger/invoices"
)

// pdfText renders a document and reads its text back with pdftotext (Debian poppler-utils), as
// a person's viewer would show it; without pdftotext the test says what to install and skips,
// unless CI is set.
func pdfText(t *testing.T, write func(*bytes.Buffer) error) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		msg := "pdftotext not found: the PDF documents cannot be read back here (apt-get install -y poppler-utils)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so this fails")
		}
		t.Skip(msg)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// One space for any run of spaces: the layout's alignment is not what is checked.
	return strings.Join(strings.Fields(string(out)), " ")
}

func wantText(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("the PDF does not show %q:\n%s", w, text)
		}
	}
}

// CONTRACT 3.11: the printable invoice shows seller and buyer with their VAT ids, the lines, the
// VAT breakdown, the total, the due date, the IBAN and payment reference, and the mentions.
func TestPDFInvoice(t *testing.T) {
	nl := exportInvoice("INV-2026-000001", exportNL, "87.50", "18.38", "105.88",
		exportLine(invoices.LineUsage, "SMS NL", "1000", invoices.UnitPiece, "0.075", "75.00"),
		exportLine(invoices.LineUsage, "Voice NL mobile", "104.166667", invoices.UnitMinute, "0.12", "12.50"))
	text := pdfText(t, func(b *bytes.Buffer) error { return invoices.WritePDFInvoice(b, nl, exportSeller, "") })
	wantText(t, text, "Invoice", "INV-2026-000001", "Voxtel B.V.", "VAT NL859245371B01", "Keizersgracht 100",
		"Acme Bakeries B.V.", "Dorpsstraat 1", "3511 AA Utrecht", "PEPPOL 0106:12345678",
		"Issue date 2026-04-01", "Due date 2026-04-15", "Period 2026-03-01 to 2026-03-31",
		"SMS NL (2026-03) 1000 pcs 0.075 75.00 21 %", "Voice NL mobile (2026-03) 104.166667 min 0.12 12.50 21 %",
		"VAT 21 % on EUR 87.50 EUR 18.38", "Net EUR 87.50", "Total EUR 105.88",
		"IBAN NL91ABNA0417164300", "payment reference INV-2026-000001")

	// Reverse charge (R5): the customer's VAT id and the mention; due at once after termination.
	de := exportInvoice("INV-2026-000002", exportDE, "100.00", "0.00", "100.00",
		exportLine(invoices.LineUsage, "SMS DE", "1000", invoices.UnitPiece, "0.10", "100.00"))
	text = pdfText(t, func(b *bytes.Buffer) error { return invoices.WritePDFInvoice(b, de, exportSeller, "2026-04-08") })
	wantText(t, text, "VAT DE123456789", "AE 0 %", "Reverse charge", "Total EUR 100.00",
		"due at once since", "2026-04-08 (termination, T&C 10.7)")

	// Outside the EU: category O, said in words; a final invoice due on issue.
	gb := exportInvoice("INV-2026-000003", exportGB, "10.00", "0.00", "10.00",
		exportLine(invoices.LineUsage, "SMS GB", "100", invoices.UnitPiece, "0.10", "10.00"))
	gb.DueDate = gb.IssueDate
	text = pdfText(t, func(b *bytes.Buffer) error { return invoices.WritePDFInvoice(b, gb, exportSeller, "") })
	wantText(t, text, "Not subject to VAT", "(due on issue)", "Total EUR 10.00")

	// The same document, the same bytes.
	var a, b bytes.Buffer
	if err := invoices.WritePDFInvoice(&a, nl, exportSeller, ""); err != nil {
		t.Fatal(err)
	}
	if err := invoices.WritePDFInvoice(&b, nl, exportSeller, ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two renderings of one invoice differ")
	}
}

// A credit note names the invoice it credits and why, and asks for no payment.
func TestPDFCreditNote(t *testing.T) {
	nl := exportInvoice("INV-2026-000001", exportNL, "10.00", "2.10", "12.10",
		exportLine(invoices.LineUsage, "SMS NL", "100", invoices.UnitPiece, "0.10", "10.00"))
	cn := invoices.CreditNote{Number: "CN-2026-000001", Account: "acme", Customer: exportNL, InvoiceNumber: nl.Number,
		InvoiceIssueDate: nl.IssueDate, IssueDate: exportDate("2026-04-10"), Currency: "EUR", Reason: "dispute d-1 accepted: wrong rate",
		Lines: nl.Lines, VAT: nl.VAT, Net: nl.Net, Tax: nl.Tax, Total: nl.Total}
	text := pdfText(t, func(b *bytes.Buffer) error { return invoices.WritePDFCreditNote(b, cn, exportSeller) })
	wantText(t, text, "Credit note", "CN-2026-000001", "Credits invoice INV-2026-000001 of 2026-04-01",
		"Reason dispute d-1 accepted: wrong rate", "Total EUR 12.10")
	if strings.Contains(text, "Please pay") {
		t.Errorf("a credit note asks for payment:\n%s", text)
	}
}
