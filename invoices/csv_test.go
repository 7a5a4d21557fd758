package invoices_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"ledger/invoices"
	"ledger/ledger"
)

// csvInvoices are a period's invoices for the bookkeeping export, their totals computed by hand.
func csvInvoices() []invoices.Invoice {
	tricky := invoices.Party{ID: "=cmd", Name: "=HYPERLINK(\"http://evil.example\"),\n \"Quoted\", Ltd", Country: "NL"}
	return []invoices.Invoice{
		exportInvoice("INV-2026-000001", exportNL, "87.50", "18.38", "105.88", // 87.50 × 0.21 = 18.375 → 18.38
			exportLine(invoices.LineUsage, "SMS NL", "1000", invoices.UnitPiece, "0.075000", "75.00"),
			exportLine(invoices.LineUsage, "MMS NL", "50", invoices.UnitPiece, "0.250000", "12.50")),
		exportInvoice("INV-2026-000002", exportDE, "146.97", "0.00", "146.97",
			exportLine(invoices.LineUsage, "WhatsApp DE", "2000", invoices.UnitPiece, "0.060000", "120.00"),
			exportLine(invoices.LineUsage, "SMS DE", "333", invoices.UnitPiece, "0.081000", "26.97")),
		exportInvoice("INV-2026-000003", exportGB, "350.00", "0.00", "350.00",
			exportLine(invoices.LineUsage, "SMS GB", "10000", invoices.UnitPiece, "0.035000", "350.00")),
		exportInvoice("INV-2026-000004", tricky, "10.00", "2.10", "12.10",
			exportLine(invoices.LineUsage, "SMS NL", "100", invoices.UnitPiece, "0.100000", "10.00")),
	}
}

var csvStanding = map[string]invoices.Standing{
	"INV-2026-000001": {Status: "open", Outstanding: exportDec("105.88")},
	"INV-2026-000002": {Status: "paid", Outstanding: decimal.Zero},
	"INV-2026-000003": {Status: "overdue", Outstanding: exportDec("50.5")}, // a short payment of 299.50 (T&C 3.7)
	"INV-2026-000004": {Status: "credited", Outstanding: decimal.Zero},
}

// R5: the bookkeeping export, one row per invoice, read back as a spreadsheet would.
func TestCSV(t *testing.T) {
	invs := csvInvoices()
	var buf bytes.Buffer
	if err := invoices.WriteCSV(&buf, invs, csvStanding); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\r\n") || strings.Count(buf.String(), "\r\n") < len(invs)+1 {
		t.Errorf("lines do not end in CRLF (RFC 4180)")
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the export does not parse back: %v", err)
	}
	wantHeader := "number,account,customer name,country,VAT ID,period,issue date,due date,currency,net,VAT rate,VAT category,VAT,total,outstanding,status,type,corrects"
	if got := strings.Join(records[0], ","); got != wantHeader {
		t.Errorf("header %q, want %q", got, wantHeader)
	}
	if len(records) != len(invs)+1 {
		t.Fatalf("%d rows, want a header and one per invoice (%d)", len(records), len(invs))
	}
	column := map[string]int{}
	for i, name := range records[0] {
		column[name] = i
	}
	rows := records[1:]

	t.Run("R5_one_row_per_invoice", func(t *testing.T) {
		for _, c := range []struct {
			row                                                   int
			number, account, vatID, rate, category                string
			net, vat, total, outstanding, status, issued, due, at string
		}{
			{0, "INV-2026-000001", "acme", "", "0.21", "S", "87.50", "18.38", "105.88", "105.88", "open", "2026-04-01", "2026-04-15", "2026-03"},
			{1, "INV-2026-000002", "kraut", "DE123456789", "0", "AE", "146.97", "0.00", "146.97", "0.00", "paid", "2026-04-01", "2026-04-15", "2026-03"},
			{2, "INV-2026-000003", "albion", "GB123456789", "0", "O", "350.00", "0.00", "350.00", "50.50", "overdue", "2026-04-01", "2026-04-15", "2026-03"},
		} {
			r := rows[c.row]
			for _, f := range []struct{ column, want string }{
				{"number", c.number}, {"account", c.account}, {"VAT ID", c.vatID}, {"VAT rate", c.rate},
				{"VAT category", c.category}, {"net", c.net}, {"VAT", c.vat}, {"total", c.total},
				{"outstanding", c.outstanding}, {"status", c.status}, {"issue date", c.issued},
				{"due date", c.due}, {"period", c.at}, {"currency", "EUR"},
			} {
				if got := r[column[f.column]]; got != f.want {
					t.Errorf("%s %s = %q, want %q", c.number, f.column, got, f.want)
				}
			}
		}
	})

	t.Run("R5_totals_match", func(t *testing.T) {
		// 87.50 + 146.97 + 350.00 + 10.00 = 594.47; 18.38 + 2.10 = 20.48; 594.47 + 20.48 = 614.95
		sums := map[string]decimal.Decimal{}
		for _, r := range rows {
			for _, name := range []string{"net", "VAT", "total"} {
				sums[name] = sums[name].Add(exportDec(r[column[name]]))
			}
		}
		var documents struct{ net, tax, total decimal.Decimal }
		for _, inv := range invs {
			documents.net, documents.tax, documents.total = documents.net.Add(inv.Net), documents.tax.Add(inv.Tax), documents.total.Add(inv.Total)
		}
		for _, c := range []struct {
			name               string
			fromCSV, documents decimal.Decimal
			want               string
		}{
			{"net", sums["net"], documents.net, "594.47"},
			{"VAT", sums["VAT"], documents.tax, "20.48"},
			{"total", sums["total"], documents.total, "614.95"},
		} {
			if !c.fromCSV.Equal(exportDec(c.want)) || !c.documents.Equal(exportDec(c.want)) {
				t.Errorf("%s: CSV adds up to %s, the invoices to %s, want %s", c.name, c.fromCSV, c.documents, c.want)
			}
		}
		if len(rows) != len(invs) {
			t.Errorf("%d rows, want one per invoice (%d)", len(rows), len(invs))
		}
	})

	t.Run("RFC_4180_quoting_and_no_formulas", func(t *testing.T) {
		r := rows[3]
		if got, want := r[column["customer name"]], "'=HYPERLINK(\"http://evil.example\"),\n \"Quoted\", Ltd"; got != want {
			t.Errorf("customer name %q, want %q (quoted, and no formula)", got, want)
		}
		if got := r[column["account"]]; got != "'=cmd" {
			t.Errorf("account %q, want it kept from being a formula", got)
		}
	})
}

func TestCSVEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := invoices.WriteCSV(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\r\n"); lines != 1 {
		t.Errorf("an empty export has %d lines, want the header only", lines)
	}
}

// TestCSVRefuses: a bookkeeping file is right or is not written.
func TestCSVRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(invs []invoices.Invoice, standing map[string]invoices.Standing) []invoices.Invoice
	}{
		{"no_status", func(invs []invoices.Invoice, standing map[string]invoices.Standing) []invoices.Invoice {
			delete(standing, "INV-2026-000002")
			return invs
		}},
		{"invariant_4_total_is_not_net_plus_VAT", func(invs []invoices.Invoice, _ map[string]invoices.Standing) []invoices.Invoice {
			invs[0].Total = exportDec("105.87")
			return invs
		}},
		{"invariant_4_outstanding_below_zero", func(invs []invoices.Invoice, standing map[string]invoices.Standing) []invoices.Invoice {
			standing["INV-2026-000001"] = invoices.Standing{Status: "paid", Outstanding: exportDec("-0.01")}
			return invs
		}},
		{"R5_amount_not_in_cents", func(invs []invoices.Invoice, standing map[string]invoices.Standing) []invoices.Invoice {
			standing["INV-2026-000001"] = invoices.Standing{Status: "open", Outstanding: exportDec("0.005")}
			return invs
		}},
		{"same_invoice_twice", func(invs []invoices.Invoice, _ map[string]invoices.Standing) []invoices.Invoice {
			return append(invs, invs[0])
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			standing := map[string]invoices.Standing{}
			for k, v := range csvStanding {
				standing[k] = v
			}
			invs := c.change(csvInvoices(), standing)
			var buf bytes.Buffer
			err := invoices.WriteCSV(&buf, invs, standing)
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
}

// R5 "credit notes likewise": the credit notes of the period follow the invoices, signed
// negative, naming the invoice each corrects, so that an import balances.
func TestCSVCreditNotes(t *testing.T) {
	invs := csvInvoices()
	inv := invs[3]
	cn := invoices.CreditNote{Number: "CN-2026-000001", Account: inv.Account, Customer: inv.Customer, InvoiceNumber: inv.Number,
		IssueDate: date("2026-04-20"), Currency: "EUR", VAT: inv.VAT, Net: exportDec("10.00"), Tax: exportDec("2.10"), Total: exportDec("12.10")}
	var buf bytes.Buffer
	if err := invoices.WriteCSV(&buf, invs, csvStanding, cn); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	column := map[string]int{}
	for i, name := range records[0] {
		column[name] = i
	}
	if len(records) != len(invs)+2 {
		t.Fatalf("%d rows, want the header, %d invoices and the credit note", len(records), len(invs))
	}
	last := records[len(records)-1]
	for name, want := range map[string]string{"number": "CN-2026-000001", "type": "credit_note", "corrects": inv.Number,
		"net": "-10.00", "VAT": "-2.10", "total": "-12.10", "issue date": "2026-04-20", "due date": "", "period": "2026-04"} {
		if got := last[column[name]]; got != want {
			t.Errorf("credit note %s = %q, want %q", name, got, want)
		}
	}
	for _, r := range records[1 : len(records)-1] {
		if r[column["type"]] != "invoice" || r[column["corrects"]] != "" {
			t.Errorf("invoice row %v: want type invoice, corrects nothing", r)
		}
	}
	if err := invoices.WriteCSV(&buf, invs, csvStanding, cn, cn); err == nil {
		t.Error("a credit note listed twice was written")
	}
}
