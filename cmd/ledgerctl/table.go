package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// table prints rows in columns; the columns marked numeric are aligned right.
type table struct {
	header  []string
	numeric []bool
	rows    [][]string
}

func newTable(header ...string) *table {
	return &table{header: header, numeric: make([]bool, len(header))}
}

// alignRight marks columns (by index) as numbers.
func (t *table) alignRight(columns ...int) *table {
	for _, c := range columns {
		t.numeric[c] = true
	}
	return t
}

func (t *table) add(cells ...string) {
	if len(cells) != len(t.header) {
		panic(fmt.Sprintf("table row of %d cells under %d columns", len(cells), len(t.header)))
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) error {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case t.numeric[i]:
				b.WriteString(pad + cell)
			case i < len(row)-1:
				b.WriteString(cell + pad)
			default:
				b.WriteString(cell) // no trailing blanks
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// field is one line of a key–value block.
type field struct{ key, value string }

// writeFields prints key–value lines with the values aligned, leaving out empty values.
func writeFields(w io.Writer, fields ...field) error {
	width := 0
	for _, f := range fields {
		if f.value != "" {
			width = max(width, utf8.RuneCountInString(f.key))
		}
	}
	var b strings.Builder
	for _, f := range fields {
		if f.value != "" {
			fmt.Fprintf(&b, "%s%s  %s\n", f.key, strings.Repeat(" ", width-utf8.RuneCountInString(f.key)), f.value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// amounts sums money per currency, in decimals (never float), in the order currencies appear.
type amounts struct {
	order []string
	sum   map[string]decimal.Decimal
}

// add adds an amount the API answered as a string of decimals.
func (a *amounts) add(currency, amount string) error {
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return fmt.Errorf("amount %q is not a decimal number", amount)
	}
	if a.sum == nil {
		a.sum = map[string]decimal.Decimal{}
	}
	if _, ok := a.sum[currency]; !ok {
		a.order = append(a.order, currency)
	}
	a.sum[currency] = a.sum[currency].Add(d)
	return nil
}

// String is "127.05 EUR", "12.00 EUR + 3.00 USD", or "0.00" when nothing was added. Invoice
// amounts have 2 decimals (R5), so their sums do.
func (a *amounts) String() string {
	if len(a.order) == 0 {
		return "0.00"
	}
	parts := make([]string, len(a.order))
	for i, c := range a.order {
		parts[i] = strings.TrimSpace(a.sum[c].StringFixed(2) + " " + c)
	}
	return strings.Join(parts, " + ")
}

// plural is "1 invoice", "2 invoices".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// writeCounted writes the table and, under it, a line saying what it counted.
func (t *table) writeCounted(w io.Writer, count string) error {
	if err := t.write(w); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, count)
	return err
}
