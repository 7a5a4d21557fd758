package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"ledger/api/wire"
)

// invoice is an invoice as the API answers it (CONTRACT 3.3).
type invoice = wire.Invoice

type invoiceLine = wire.Line

type vatSubtotal = wire.VATSubtotal

// invoiceTotals sums invoices' amounts per currency.
type invoiceTotals struct {
	count                        int
	creditNotes                  int // rows of type credit_note in a CSV export (their amounts are negative)
	net, vat, total, outstanding amounts
}

func (t *invoiceTotals) add(inv invoice) error {
	t.count++
	for _, a := range []struct {
		sum    *amounts
		amount string
		name   string
	}{{&t.net, inv.Net, "net"}, {&t.vat, inv.VAT, "vat"}, {&t.total, inv.Total, "total"}, {&t.outstanding, inv.Outstanding, "outstanding"}} {
		if err := a.sum.add(inv.Currency, a.amount); err != nil {
			return fmt.Errorf("invoice %s: %s: %w", inv.ID, a.name, err)
		}
	}
	return nil
}

// listInvoices follows GET /v1/invoices through all its pages.
func (c *client) listInvoices(ctx context.Context, query url.Values, each func(inv invoice, raw json.RawMessage) error) error {
	return c.list(ctx, "/v1/invoices", query, func(raw json.RawMessage) error {
		var inv invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return fmt.Errorf("GET /v1/invoices: an item is not an invoice: %w", err)
		}
		return each(inv, raw)
	})
}

func invoicesList(fs *flag.FlagSet) action {
	account := fs.String("account", "", "only this account's invoices")
	period := fs.String("period", "", "only this period's invoices (YYYY-MM)")
	status := fs.String("status", "", "only invoices in this status: open, paid, overdue, disputed or credited")
	return func(ctx context.Context, inv *invocation) error {
		query := url.Values{}
		for name, value := range map[string]string{"account": *account, "period": *period, "status": *status} {
			if value != "" {
				query.Set(name, value)
			}
		}
		t := newTable("NUMBER", "ACCOUNT", "PERIOD", "ISSUED", "DUE", "STATUS", "TOTAL", "OUTSTANDING").alignRight(6, 7)
		var totals invoiceTotals
		var items []json.RawMessage
		err := inv.client.listInvoices(ctx, query, func(i invoice, raw json.RawMessage) error {
			items = append(items, raw)
			t.add(i.ID, i.Account, i.Period, i.IssueDate, i.DueDate, i.Status, i.Total, i.Outstanding)
			return totals.add(i)
		})
		if err != nil {
			return err
		}
		if inv.json {
			return writeJSON(inv.stdout, map[string]any{"items": nonNil(items), "next": ""})
		}
		if totals.count > 0 {
			if err := t.write(inv.stdout); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(inv.stdout, "%s  total %s  outstanding %s\n",
			plural(totals.count, "invoice", "invoices"), &totals.total, &totals.outstanding)
		return err
	}
}

func invoicesShow(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		var i invoice
		raw, _, err := inv.client.call(ctx, http.MethodGet, "/v1/invoices/"+url.PathEscape(inv.args[0]), nil, nil, &i)
		if err != nil {
			return err
		}
		if inv.json {
			_, err := inv.stdout.Write(raw)
			return err
		}
		return writeInvoice(inv.stdout, i)
	}
}

// writeInvoice prints an invoice for a person: its header, lines, VAT breakdown, amounts, notes.
func writeInvoice(w io.Writer, i invoice) error {
	customer := i.Account
	if i.Customer != "" && i.Customer != i.Account {
		customer = fmt.Sprintf("%s (%s)", i.Account, i.Customer)
	}
	fmt.Fprintf(w, "Invoice %s\n\n", i.ID)
	writeFields(w,
		field{"account", customer},
		field{"period", i.Period},
		field{"issued", i.IssueDate},
		field{"due", i.DueDate},
		field{"due now", i.DueNow},
		field{"status", i.Status},
		field{"overdue since", i.OverdueSince},
		field{"currency", i.Currency},
	)

	fmt.Fprintln(w)
	if err := writeLines(w, i.Lines, i.Period); err != nil {
		return err
	}

	fmt.Fprintln(w)
	vat := newTable("VAT", "RATE", "TAXABLE", "TAX").alignRight(1, 2, 3)
	for _, s := range i.VATBreakdown {
		vat.add(s.Category, s.Rate, s.Taxable, s.Tax)
	}
	if err := vat.write(w); err != nil {
		return err
	}

	fmt.Fprintln(w)
	disputed := i.Disputed
	if isZero(disputed) {
		disputed = ""
	}
	amounts := newTable("", "").alignRight(1)
	for _, a := range []field{{"net", i.Net}, {"VAT " + i.VATRate, i.VAT}, {"total", i.Total},
		{"outstanding", i.Outstanding}, {"disputed", disputed}} {
		if a.value != "" {
			amounts.add(a.key, a.value)
		}
	}
	if err := writeRows(w, amounts); err != nil {
		return err
	}

	if len(i.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes")
		for _, n := range i.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return nil
}

// writeRows prints a table without its header.
func writeRows(w io.Writer, t *table) error {
	var b strings.Builder
	if err := t.write(&b); err != nil {
		return err
	}
	_, rows, _ := strings.Cut(b.String(), "\n")
	_, err := io.WriteString(w, rows)
	return err
}

// unitNames are the UN/ECE Recommendation 20 codes the API answers as a line's unit (the
// codes of its UBL documents), in words.
var unitNames = map[string]string{"C62": "piece", "MIN": "minute", "HUR": "hour", "KMT": "km"}

func unitName(code string) string {
	if name, ok := unitNames[code]; ok {
		return name
	}
	return code
}

func isZero(amount string) bool {
	return strings.Trim(amount, "0.") == ""
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNil(items []json.RawMessage) []json.RawMessage {
	if items == nil {
		return []json.RawMessage{}
	}
	return items
}

// writeLines prints a document's lines; a line of another period than the document's, or about
// another invoice, says so.
func writeLines(w io.Writer, lines []invoiceLine, period string) error {
	if len(lines) == 0 {
		_, err := fmt.Fprintln(w, "no lines")
		return err
	}
	t := newTable("KIND", "DESCRIPTION", "QUANTITY", "UNIT", "UNIT PRICE", "AMOUNT", "VAT").alignRight(2, 4, 5)
	for _, l := range lines {
		description := l.Description
		var about []string
		if l.Period != "" && l.Period != period {
			about = append(about, l.Period)
		}
		if l.Concerns != "" {
			about = append(about, "re "+l.Concerns)
		}
		if len(about) > 0 {
			description += " (" + strings.Join(about, ", ") + ")"
		}
		t.add(l.Kind, description, l.Quantity, unitName(l.Unit), l.UnitPrice, l.Amount, l.VATCategory)
	}
	return t.write(w)
}
