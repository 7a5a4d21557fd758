package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ledger/internal/testnet"
)

// TestLedgerctl drives every command against one real ledgerd, in the order finance meets
// them: March usage invoiced at the start of April (R5), listed, shown, exported; a dispute
// within the payment term and its credit note (R7); a payment with credit left (T&C 3.7); a
// dispute after the due date refused (T&C 3.11); a period run twice refused (R5).
//
// acme sends 1000 NL SMS parts (75.00 net, 15.75 VAT, 90.75 total); beta 400 (30.00 net, 6.30
// VAT, 36.30 total). Together: 105.00 net, 22.05 VAT, 127.05 total.
func TestLedgerctl(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	l.postpaid("", "acme")
	l.postpaid("", "beta")
	for i := range 10 {
		l.sendSMS("acme-"+string(rune('a'+i)), "acme", 100)
	}
	l.sendSMS("beta-a", "beta", 400)
	l.waitUnbilled("", "acme", "75.000000")
	l.waitUnbilled("", "beta", "30.000000")
	// 00:00 on 1 April in Amsterdam: the March billing run happens by itself.
	l.setClock("", "2026-03-31T22:00:00Z")
	const acmeInvoice, betaInvoice = "INV-2026-000001", "INV-2026-000002"

	t.Run("R5_list_every_invoice_with_totals", func(t *testing.T) {
		r := ledgerctl(t, "invoices", "list", server)
		if r.code != 0 {
			t.Fatal(r)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		want := [][]string{
			{"NUMBER", "ACCOUNT", "PERIOD", "ISSUED", "DUE", "STATUS", "TOTAL", "OUTSTANDING"},
			{acmeInvoice, "acme", "2026-03", "2026-04-01", "2026-04-15", "open", "90.75", "90.75"},
			{betaInvoice, "beta", "2026-03", "2026-04-01", "2026-04-15", "open", "36.30", "36.30"},
		}
		if len(lines) != len(want)+1 {
			t.Fatalf("%d lines, want %d\n%s", len(lines), len(want)+1, r)
		}
		for i, w := range want {
			if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("line %d = %q, want the cells %q", i, lines[i], w)
			}
		}
		if got, want := lines[len(lines)-1], "2 invoices  total 127.05 EUR  outstanding 127.05 EUR"; got != want {
			t.Errorf("summary %q, want %q", got, want)
		}
	})

	t.Run("R5_list_filters_with_flags_before_or_after_the_words", func(t *testing.T) {
		for _, args := range [][]string{
			{"invoices", "list", "--account", "acme", server},
			{server, "--account=acme", "invoices", "list", "--period", "2026-03"},
			{"invoices", "--status", "open", "list", "--account", "acme", server},
		} {
			r := ledgerctl(t, args...)
			if r.code != 0 || !strings.Contains(r.stdout, acmeInvoice) || strings.Contains(r.stdout, betaInvoice) ||
				!strings.HasSuffix(r.stdout, "1 invoice  total 90.75 EUR  outstanding 90.75 EUR\n") {
				t.Errorf("%q:\n%s", args, r)
			}
		}
		r := ledgerctl(t, "invoices", "list", "--status", "paid", server)
		if r.code != 0 || r.stdout != "0 invoices  total 0.00  outstanding 0.00\n" {
			t.Errorf("no paid invoices yet:\n%s", r)
		}
	})

	t.Run("R5_list_follows_next_through_every_page", func(t *testing.T) {
		c, err := newClient(l.url(), "")
		if err != nil {
			t.Fatal(err)
		}
		c.pageLimit = 1 // a page per invoice, and an empty last one
		var got []string
		err = c.listInvoices(context.Background(), url.Values{"period": {"2026-03"}}, func(i invoice, _ json.RawMessage) error {
			got = append(got, i.ID)
			return nil
		})
		if err != nil || strings.Join(got, " ") != acmeInvoice+" "+betaInvoice {
			t.Errorf("pages of 1 gave %q, %v; want both invoices in order", got, err)
		}
	})

	t.Run("R5_list_json_is_the_API_items", func(t *testing.T) {
		r := ledgerctl(t, "invoices", "list", "--json", server)
		var out struct {
			Items []invoice `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Items) != 2 || out.Items[0].Total != "90.75" {
			t.Errorf("%v\n%s", err, r)
		}
	})

	t.Run("R5_show_lines_VAT_breakdown_and_amounts", func(t *testing.T) {
		r := ledgerctl(t, server, "invoices", "show", acmeInvoice)
		if r.code != 0 {
			t.Fatal(r)
		}
		for _, want := range [][]string{
			{"Invoice", acmeInvoice},
			{"account", "acme", "(Customer", "acme)"},
			{"issued", "2026-04-01"},
			{"due", "2026-04-15"},
			{"status", "open"},
			{"KIND", "DESCRIPTION", "QUANTITY", "UNIT", "UNIT", "PRICE", "AMOUNT", "VAT"},
			{"VAT", "RATE", "TAXABLE", "TAX"},
			{"S", "0.21", "75.00", "15.75"},
			{"net", "75.00"},
			{"VAT", "0.21", "15.75"},
			{"total", "90.75"},
			{"outstanding", "90.75"},
		} {
			if !hasLine(r.stdout, want...) {
				t.Errorf("no line of %q\n%s", want, r)
			}
		}
		if !hasLine(r.stdout, "usage", "SMS", "Netherlands", "1000", "piece", "0.075000", "75.00", "S") {
			t.Errorf("no usage line of 1000 SMS at 0.075 amounting to 75.00\n%s", r)
		}
	})

	t.Run("R5_show_unknown_invoice_is_not_found", func(t *testing.T) {
		r := ledgerctl(t, server, "invoices", "show", "INV-1999-000001")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: not_found: ") || !strings.Contains(r.stderr, "INV-1999-000001") {
			t.Error(r)
		}
	})

	t.Run("R5_export_csv_one_row_per_invoice", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "made-by-the-export")
		r := ledgerctl(t, server, "invoices", "export", "--period", "2026-03", "--format", "csv", "--out", dir)
		if r.code != 0 {
			t.Fatal(r)
		}
		rows := readCSV(t, filepath.Join(dir, "invoices-2026-03.csv"))
		if len(rows) != 3 || rows[0][0] != "number" || rows[1][0] != acmeInvoice || rows[2][0] != betaInvoice {
			t.Errorf("CSV rows %q, want a header and the two invoices", rows)
		}
		for _, want := range [][]string{
			{"exported", "2026-03", "as", "CSV"},
			{"invoices", "2"},
			{"net", "105.00", "EUR"},
			{"VAT", "22.05", "EUR"},
			{"total", "127.05", "EUR"},
			{"files", "1", "written", "to", filepath.Join(dir, "invoices-2026-03.csv")},
			{"elapsed"},
		} {
			if !hasLineStarting(r.stdout, want...) {
				t.Errorf("summary has no line of %q\n%s", want, r)
			}
		}
		noTemporaryFiles(t, dir)
	})

	ublDir := t.TempDir()
	var ubl result
	t.Run("R5_export_ubl_one_file_per_invoice", func(t *testing.T) {
		ubl = ledgerctl(t, server, "invoices", "export", "--period=2026-03", "--format=ubl", "--out="+ublDir)
		if ubl.code != 0 {
			t.Fatal(ubl)
		}
		var files []string
		for _, id := range []string{acmeInvoice, betaInvoice} {
			path := filepath.Join(ublDir, id+".xml")
			files = append(files, path)
			if root := xmlRoot(t, path); root != "Invoice" {
				t.Errorf("%s: root element %q, want Invoice (UBL 2.1)", path, root)
			}
		}
		noTemporaryFiles(t, ublDir)
		// One document is enough for the CLI (a JVM run takes seconds); invoices/ tests the writer.
		validateUBL(t, files[0])
	})

	t.Run("R5_export_ubl_summary", func(t *testing.T) {
		for _, want := range [][]string{
			{"exported", "2026-03", "as", "UBL"},
			{"invoices", "2"},
			{"net", "105.00", "EUR"},
			{"VAT", "22.05", "EUR"},
			{"total", "127.05", "EUR"},
			{"files", "2", "written", "to", ublDir},
			{"elapsed"},
		} {
			if !hasLineStarting(ubl.stdout, want...) {
				t.Errorf("summary has no line of %q\n%s", want, ubl)
			}
		}
	})

	t.Run("R5_export_ubl_progress_every_10_percent_off_a_terminal", func(t *testing.T) {
		lines := strings.Split(strings.TrimSuffix(ubl.stderr, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "1/2 invoices (50 %)  ") || !strings.HasPrefix(lines[1], "2/2 invoices (100 %)  ") ||
			strings.Contains(ubl.stderr, "\r") {
			t.Errorf("progress on a non-terminal: %q, want a line at 50 %% and at 100 %%, no \\r", ubl.stderr)
		}
	})

	t.Run("R5_export_needs_period_format_and_dir", func(t *testing.T) {
		for _, args := range [][]string{
			{"invoices", "export", "--format", "csv", "--out", t.TempDir()},
			{"invoices", "export", "--period", "2026-03", "--format", "docx", "--out", t.TempDir()},
			{"invoices", "export", "--period", "2026-03", "--format", "ubl"},
		} {
			if r := ledgerctl(t, append(args, server)...); r.code != 2 || !strings.Contains(r.stderr, "Usage: ledgerctl invoices export") {
				t.Errorf("%q:\n%s", args, r)
			}
		}
	})

	t.Run("R7_dispute_within_the_payment_term_then_accepted", func(t *testing.T) {
		r := ledgerctl(t, server, "disputes", "open", "--invoice", betaInvoice, "--id", "D-1", "--amount", "12.10",
			"--reason", "SMS to a number that was not ours")
		if r.code != 0 || !hasLine(r.stdout, "Dispute", "D-1", "(opened)") || !hasLine(r.stdout, "amount", "12.10", "(with", "VAT:", "held", "back", "while", "open)") ||
			!hasLine(r.stdout, "status", "open") {
			t.Fatal(r)
		}
		if r := ledgerctl(t, server, "invoices", "list", "--account", "beta"); !hasLine(r.stdout, betaInvoice, "beta", "2026-03", "2026-04-01", "2026-04-15", "disputed", "36.30", "36.30") {
			t.Errorf("the disputed invoice:\n%s", r)
		}
		r = ledgerctl(t, server, "disputes", "resolve", "--id", "D-1", "--outcome", "accepted")
		if r.code != 0 || !hasLine(r.stdout, "status", "accepted") || !hasLineStarting(r.stdout, "credit", "note", "CN-") {
			t.Fatal(r)
		}
		if r := ledgerctl(t, server, "invoices", "show", betaInvoice); !hasLine(r.stdout, "outstanding", "24.20") {
			t.Errorf("36.30 less the credit note's 12.10 leaves 24.20 outstanding:\n%s", r)
		}
		if r := ledgerctl(t, server, "disputes", "show", "D-1"); r.code != 0 || !hasLine(r.stdout, "status", "accepted") {
			t.Errorf("disputes show:\n%s", r)
		}
		if r := ledgerctl(t, server, "credit-notes", "list", "--account", "beta"); r.code != 0 || !hasLineStarting(r.stdout, "CN-2026-000001", "beta", betaInvoice) ||
			!strings.Contains(r.stdout, "1 credit note") {
			t.Errorf("credit-notes list:\n%s", r)
		}
		if r := ledgerctl(t, server, "credit-notes", "show", "CN-2026-000001"); r.code != 0 || !hasLine(r.stdout, "credits", betaInvoice) || !hasLine(r.stdout, "total", "12.10") {
			t.Errorf("credit-notes show:\n%s", r)
		}
	})

	t.Run("T&C_3.7_payment_allocated_and_credit_left", func(t *testing.T) {
		r := ledgerctl(t, server, "payments", "add", "--account", "acme", "--id", "P-1", "--amount", "100.00")
		if r.code != 0 || !hasLine(r.stdout, "Payment", "P-1", "(booked)") || !hasLine(r.stdout, acmeInvoice, "90.75") ||
			!hasLine(r.stdout, "credit", "left", "9.25") {
			t.Fatal(r)
		}
		again := ledgerctl(t, server, "payments", "add", "--account", "acme", "--id", "P-1", "--amount", "100.00")
		if again.code != 0 || !strings.Contains(again.stdout, "booked before with this id") || !hasLine(again.stdout, "credit", "left", "9.25") {
			t.Errorf("the same payment again books nothing more:\n%s", again)
		}
		if r := ledgerctl(t, server, "invoices", "list", "--status", "paid"); !hasLine(r.stdout, acmeInvoice, "acme", "2026-03", "2026-04-01", "2026-04-15", "paid", "90.75", "0.00") {
			t.Errorf("acme's invoice is paid:\n%s", r)
		}
	})

	t.Run("T&C_3.7_payment_in_cents_only", func(t *testing.T) {
		r := ledgerctl(t, server, "payments", "add", "--account", "acme", "--id", "P-2", "--amount", "1.005", "--non-sepa")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: invalid: ") {
			t.Error(r)
		}
	})

	t.Run("T&C_3.11_dispute_after_the_due_date_refused", func(t *testing.T) {
		l.setClock("", "2026-04-16T12:00:00Z") // due 2026-04-15
		r := ledgerctl(t, server, "disputes", "open", "--invoice", betaInvoice, "--id", "D-2", "--amount", "5.00", "--reason", "too late")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: refused: ") || !strings.Contains(r.stderr, "T&C 3.11") {
			t.Error(r)
		}
	})

	t.Run("R5_billing_run_of_a_period_run_already_issues_nothing", func(t *testing.T) {
		before := ledgerctl(t, server, "invoices", "list", "--period", "2026-03")
		r := ledgerctl(t, server, "billing-runs", "run", "--period", "2026-03")
		if r.code != 0 || !strings.Contains(r.stdout, "invoiced before (a period runs once): nothing issued now") {
			t.Error(r)
		}
		if after := ledgerctl(t, server, "invoices", "list", "--period", "2026-03"); after.stdout != before.stdout {
			t.Errorf("invoices before the second run:\n%s\nafter:\n%s", before.stdout, after.stdout)
		}
	})

	t.Run("R5_billing_run_of_a_period_not_ended_conflicts", func(t *testing.T) {
		r := ledgerctl(t, server, "billing-runs", "run", "--period", "2026-12")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: conflict: ") || !strings.Contains(r.stderr, "has not ended") {
			t.Error(r)
		}
	})

	t.Run("R5_billing_run_prints_invoices_and_totals_per_period", func(t *testing.T) {
		// The API answers a run's invoices as it answers GET /v1/invoices/{id}; these are the real ones.
		var acme, beta invoice
		json.Unmarshal(l.api("", "GET", "/v1/invoices/"+acmeInvoice, nil, http.StatusOK), &acme)
		json.Unmarshal(l.api("", "GET", "/v1/invoices/"+betaInvoice, nil, http.StatusOK), &beta)
		var out bytes.Buffer
		err := writeBillingRuns(&out, billingRuns{Period: "2026-03", Runs: []billingRun{
			{Period: "2026-02", RanAt: "2026-02-28T23:00:00Z", By: "loopback", Invoices: []invoice{}},
			{Period: "2026-03", RanAt: "2026-03-31T22:00:00Z", By: "loopback", Invoices: []invoice{acme, beta}},
		}})
		want := "PERIOD   RAN AT                BY        INVOICES         NET        VAT       TOTAL\n" +
			"2026-02  2026-02-28T23:00:00Z  loopback         0        0.00       0.00        0.00\n" +
			"2026-03  2026-03-31T22:00:00Z  loopback         2  105.00 EUR  22.05 EUR  127.05 EUR\n" +
			"2 invoices issued in 2 periods  total 127.05 EUR\n"
		if err != nil || out.String() != want {
			t.Errorf("got %v\n%s\nwant\n%s", err, out.String(), want)
		}
	})
}

// TestLedgerctlExportMany: a period of many invoices is exported whole through the worker
// pool, with a progress line per 10 %. 150 accounts of 200 NL SMS parts: each 15.00 net, 3.15
// VAT, 18.15 total; together 2250.00, 472.50 and 2722.50.
func TestLedgerctlExportMany(t *testing.T) {
	const accounts = 150
	l := startLedgerd(t, nil)
	for i := range accounts {
		account := fmt.Sprintf("c%03d", i)
		l.postpaid("", account)
		l.sendSMS("e-"+account, account, 200)
	}
	for i := range accounts {
		l.waitUnbilled("", fmt.Sprintf("c%03d", i), "15.000000")
	}
	l.setClock("", "2026-03-31T22:00:00Z")
	dir := t.TempDir()

	r := ledgerctl(t, "invoices", "export", "--server", l.url(), "--period", "2026-03", "--format", "ubl", "--out", dir)
	if r.code != 0 {
		t.Fatal(r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != accounts {
		t.Errorf("%d files, want %d", len(entries), accounts)
	}
	for i := range accounts {
		if root := xmlRoot(t, filepath.Join(dir, fmt.Sprintf("INV-2026-%06d.xml", i+1))); root != "Invoice" {
			t.Errorf("INV-2026-%06d.xml: root %q", i+1, root)
		}
	}
	for _, want := range [][]string{{"invoices", "150"}, {"net", "2250.00", "EUR"}, {"VAT", "472.50", "EUR"},
		{"total", "2722.50", "EUR"}, {"files", "150", "written"}} {
		if !hasLineStarting(r.stdout, want...) {
			t.Errorf("summary has no line of %q\n%s", want, r)
		}
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	for i, line := range lines {
		if want := fmt.Sprintf("%d/150 invoices (%d %%)  ", (i+1)*15, (i+1)*10); !strings.HasPrefix(line, want) {
			t.Errorf("progress line %d %q, want it to start %q", i, line, want)
		}
	}
	if len(lines) != 10 {
		t.Errorf("%d progress lines, want 10:\n%s", len(lines), r.stderr)
	}
	// The printable documents likewise, a PDF each (CONTRACT 3.11).
	pdfDir := t.TempDir()
	if r := ledgerctl(t, "invoices", "export", "--server", l.url(), "--period", "2026-03", "--format", "pdf", "--out", pdfDir); r.code != 0 || !hasLineStarting(r.stdout, "files", "150", "written") {
		t.Fatalf("PDF export: %s", r)
	}
	if b, err := os.ReadFile(filepath.Join(pdfDir, "INV-2026-000150.pdf")); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("INV-2026-000150.pdf: %v, %q", err, b[:min(len(b), 8)])
	}
	if r := ledgerctl(t, "invoices", "list", "--server", l.url()); !strings.HasSuffix(r.stdout, "150 invoices  total 2722.50 EUR  outstanding 2722.50 EUR\n") {
		t.Errorf("list:\n%s", r.stdout[max(0, len(r.stdout)-300):])
	}
}

// TestLedgerctlAuth: with --api-tokens, the token comes from --token or LEDGER_TOKEN.
func TestLedgerctlAuth(t *testing.T) {
	const finance = "finance-token-0123456789"
	l := startLedgerd(t, map[string]string{finance: "finance", "viewer-token-0123456789": "viewer", "admin-token-0123456789": "admin"})
	server := "--server=" + l.url()

	t.Run("CONTRACT_3_no_token_unauthorized", func(t *testing.T) {
		r := ledgerctl(t, server, "invoices", "list")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: unauthorized: ") {
			t.Error(r)
		}
	})
	t.Run("CONTRACT_3_token_flag", func(t *testing.T) {
		if r := ledgerctl(t, server, "--token", finance, "invoices", "list"); r.code != 0 || r.stdout != "0 invoices  total 0.00  outstanding 0.00\n" {
			t.Error(r)
		}
	})
	t.Run("CONTRACT_3_token_and_server_from_the_environment", func(t *testing.T) {
		t.Setenv("LEDGER_SERVER", l.url())
		t.Setenv("LEDGER_TOKEN", finance)
		if r := ledgerctl(t, "invoices", "list"); r.code != 0 {
			t.Error(r)
		}
		if r := ledgerctl(t, "help", "invoices", "list"); strings.Contains(r.stdout, finance) {
			t.Errorf("the usage shows the token:\n%s", r)
		}
	})
	t.Run("CONTRACT_3_viewer_may_not_book_payments", func(t *testing.T) {
		r := ledgerctl(t, server, "--token", "viewer-token-0123456789", "payments", "add", "--account", "acme", "--id", "P-1", "--amount", "1.00")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: forbidden: ") {
			t.Error(r)
		}
	})
}

// TestLedgerctlWithoutServer: what needs no ledgerd, or finds none.
func TestLedgerctlWithoutServer(t *testing.T) {
	t.Run("usage_without_a_command_exit_2", func(t *testing.T) {
		r := ledgerctl(t)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "Usage:") {
			t.Error(r)
		}
	})
	t.Run("help_lists_every_command", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
			r := ledgerctl(t, args...)
			if r.code != 0 {
				t.Error(r)
			}
			for _, cmd := range commands {
				if !strings.Contains(r.stdout, "  "+cmd.words+" ") {
					t.Errorf("%q: %q missing\n%s", args, cmd.words, r)
				}
			}
		}
	})
	t.Run("help_of_one_command", func(t *testing.T) {
		for _, args := range [][]string{{"help", "payments", "add"}, {"payments", "add", "-h"}} {
			r := ledgerctl(t, args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: ledgerctl payments add --account A") || !strings.Contains(r.stdout, "-non-sepa") {
				t.Errorf("%q:\n%s", args, r)
			}
		}
	})
	t.Run("unknown_command_usage_on_stderr_exit_2", func(t *testing.T) {
		for _, args := range [][]string{{"invoices"}, {"invoices", "delete"}, {"refunds", "add"}, {"help", "refunds"}} {
			r := ledgerctl(t, args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "ledgerctl: unknown command") || !strings.Contains(r.stderr, "Commands:") {
				t.Errorf("%q:\n%s", args, r)
			}
		}
	})
	t.Run("wrong_command_lines_exit_2", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"invoices", "show"}, "invoices show needs ID"},
			{[]string{"invoices", "show", "A", "B"}, `unexpected arguments ["B"]`},
			{[]string{"invoices", "list", "--bogus"}, "flag provided but not defined: -bogus"},
			{[]string{"payments", "add", "--account", "acme", "--amount", "1.00"}, "--id is required"},
			{[]string{"disputes", "open", "--invoice", "I", "--id", "D", "--amount", "1.00"}, "--reason is required"},
			{[]string{"disputes", "resolve", "--id", "D"}, "--outcome is required"},
			{[]string{"billing-runs", "run"}, "--period is required"},
			{[]string{"prices", "set", "acme"}, "prices set needs ACCOUNT FILE.csv|-"},
			{[]string{"prices", "show"}, "prices show needs ACCOUNT"},
			{[]string{"claims", "file", "acme", "--id", "C", "--amount", "1.00", "--reason", "outage"}, "--incident is required"},
			{[]string{"claims", "file", "--id", "C", "--amount", "1.00", "--incident", "2026-03-05T10:00:00Z", "--reason", "x"}, "claims file needs ACCOUNT"},
			{[]string{"liability"}, "liability needs ACCOUNT"},
			{[]string{"invoices", "list", "--server", "localhost:8080"}, `--server "localhost:8080": want a URL`},
		} {
			r := ledgerctl(t, tc.args...)
			if r.code != 2 || !strings.HasPrefix(r.stderr, "ledgerctl: "+tc.want) || !strings.Contains(r.stderr, "Usage: ledgerctl") {
				t.Errorf("%q:\n%s\nwant exit 2 and %q", tc.args, r, tc.want)
			}
		}
	})
	t.Run("connection_refused_names_the_server_and_make_run", func(t *testing.T) {
		addr := "http://" + testnet.FreeAddr(t) // nothing listens there
		r := ledgerctl(t, "invoices", "list", "--server", addr)
		if r.code != 1 || !strings.Contains(r.stderr, "cannot reach ledgerd at "+addr) || !strings.Contains(r.stderr, "not be running") ||
			!strings.Contains(r.stderr, "make run") {
			t.Error(r)
		}
	})
	t.Run("splitArgs_values_of_flags_are_not_words", func(t *testing.T) {
		words, flags := splitArgs([]string{"--reason", "-not a flag-", "disputes", "--json", "open", "--id=D", "--", "--x"}, boolFlags())
		if strings.Join(words, "|") != "disputes|open|--x" || strings.Join(flags, "|") != "--reason|-not a flag-|--json|--id=D" {
			t.Errorf("words %q, flags %q", words, flags)
		}
	})
}

// TestWriteAtomic: an export interrupted mid-file leaves no half file and no temporary file.
func TestWriteAtomic(t *testing.T) {
	t.Run("R5_export_interrupted_leaves_no_half_file", func(t *testing.T) {
		dir := t.TempDir()
		failing := io.MultiReader(strings.NewReader("<Invoice>half"), errReader{errors.New("connection reset")})
		if _, err := writeAtomic(dir, "INV-1.xml", failing); err == nil {
			t.Fatal("no error from a broken download")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
	t.Run("R5_export_empty_document_not_written", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := writeAtomic(dir, "INV-1.xml", strings.NewReader("")); err == nil {
			t.Error("an empty document was written")
		}
	})
	t.Run("R5_export_whole_file_replaces_the_old", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "INV-1.xml"), []byte("old"), 0o644)
		n, err := writeAtomic(dir, "INV-1.xml", strings.NewReader("<Invoice/>"))
		got, _ := os.ReadFile(filepath.Join(dir, "INV-1.xml"))
		if err != nil || n != 10 || string(got) != "<Invoice/>" {
			t.Errorf("%d, %v: %q", n, err, got)
		}
		noTemporaryFiles(t, dir)
	})
	t.Run("R5_export_file_names_stay_in_the_directory", func(t *testing.T) {
		for _, name := range []string{"../x.xml", "a/b.xml", `a\b.xml`, ".xml", ""} {
			if checkFileName(name) == nil {
				t.Errorf("%q accepted", name)
			}
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// hasLineStarting says whether some line of text begins with these whitespace-separated cells;
// the last may be the beginning of a cell.
func hasLineStarting(text string, cells ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < len(cells) {
			continue
		}
		last := len(cells) - 1
		if strings.Join(fields[:last], " ") == strings.Join(cells[:last], " ") && strings.HasPrefix(fields[last], cells[last]) {
			return true
		}
	}
	return false
}

// hasLine says whether some line of text has exactly these whitespace-separated cells.
func hasLine(text string, cells ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// xmlRoot reads a whole XML document and returns its root element's name.
func xmlRoot(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return root
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		if start, ok := tok.(xml.StartElement); ok && root == "" {
			root = start.Name.Local
		}
	}
}

func noTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left in %s: %s", dir, e.Name())
		}
	}
}

// validateUBL runs the EN 16931 validation (shared/validation/validate-ubl) when Java and
// Saxon-HE are installed; under CI their absence fails the test.
func validateUBL(t *testing.T, files ...string) {
	t.Helper()
	script, _ := filepath.Abs("../../../shared/validation/validate-ubl")
	missing := ""
	if _, err := os.Stat(script); err != nil {
		missing = script
	} else if _, err := exec.LookPath("java"); err != nil {
		missing = "java"
	} else if _, err := os.Stat("/usr/share/java/Saxon-HE.jar"); err != nil && os.Getenv("SAXON_JAR") == "" {
		missing = "/usr/share/java/Saxon-HE.jar"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("UBL not validated: %s not found (apt-get install default-jre-headless libsaxonhe-java); CI is set", missing)
		}
		t.Logf("UBL not validated: %s not found (apt-get install default-jre-headless libsaxonhe-java)", missing)
		return
	}
	out, err := exec.Command(script, files...).CombinedOutput()
	if err != nil {
		t.Errorf("validate-ubl: %v\n%s", err, out)
	}
}
