package service_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"ledger/invoices/ubltest"
	"ledger/sql"
)

type invoiceDoc struct {
	ID           string `json:"id"`
	Account      string `json:"account"`
	Period       string `json:"period"`
	IssueDate    string `json:"issue_date"`
	DueDate      string `json:"due_date"`
	Status       string `json:"status"`
	Net          string `json:"net"`
	VATRate      string `json:"vat_rate"`
	VATCategory  string `json:"vat_category"`
	VAT          string `json:"vat"`
	Total        string `json:"total"`
	Outstanding  string `json:"outstanding"`
	OverdueSince string `json:"overdue_since"`
	Notes        []string
	Lines        []struct {
		Kind, Description, Channel, Country, Quantity, Amount string
		UnitPrice                                             string `json:"unit_price"`
	}
}

func (e *env) invoices(query string) []invoiceDoc {
	e.t.Helper()
	var l struct{ Items []invoiceDoc }
	if status, raw := e.do("GET", "/v1/invoices?"+query, nil, &l); status != 200 {
		e.t.Fatalf("GET /v1/invoices?%s: %d %s", query, status, raw)
	}
	return l.Items
}

func (e *env) get(path string) []byte {
	e.t.Helper()
	resp, err := http.Get("http://" + e.svc.HTTPAddr + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

func want(t *testing.T, what, got, w string) {
	t.Helper()
	if got != w {
		t.Errorf("%s = %q, want %q", what, got, w)
	}
}

// R5–R8, R13 through the running service: March usage of a Dutch, a Belgian (reverse charge)
// and an American customer is invoiced at the start of April by the clock, across a restart;
// the invoices, their UBL documents (EN 16931-valid), the CSV export; a payment with an
// overpayment; a dispute on the due date accepted with a credit note, one the day after refused;
// an invoice overdue the day after its due date with its notice and metric; a termination.
func TestInvoices_through_the_service(t *testing.T) {
	e := start(t)
	e.createAccount("acme", map[string]any{"address": dutchAddress})
	e.createAccount("beta", map[string]any{"country": "BE", "vat_id": "BE0123456789"})
	e.createAccount("gamma", map[string]any{"country": "US"})
	e.publish(nil,
		smsAt("a-1", "acme", 1000, "2026-03-10T08:00:00Z"), // 75.00
		event{ID: "b-1", Account: "beta", Channel: "sms", Destination: "+33612345678", Quantity: 1000, OccurredAt: "2026-03-10T08:00:00Z"},   // 68.00 + 10.00 surcharge
		event{ID: "g-1", Account: "gamma", Channel: "sms", Destination: "+4915123456789", Quantity: 100, OccurredAt: "2026-03-10T08:00:00Z"}, // 8.10
	)
	e.waitUnbilled("acme", "75.000000")
	e.waitUnbilled("beta", "78.000000")
	e.waitUnbilled("gamma", "8.100000")
	e.restart() // the open invoice lines come back from the charges
	e.setClock("2026-03-31T22:00:00Z")

	list := e.invoices("period=2026-03")
	if len(list) != 3 {
		t.Fatalf("%d invoices for March, want 3: %+v", len(list), list)
	}
	acme, beta, gamma := list[0], list[1], list[2]
	for i, inv := range list {
		want(t, "number", inv.ID, fmt.Sprintf("INV-2026-%06d", i+1))
		want(t, inv.ID+" issue date", inv.IssueDate, "2026-04-01")
		want(t, inv.ID+" due date", inv.DueDate, "2026-04-15")
	}
	want(t, "acme", acme.Account+" "+acme.Net+" "+acme.VATRate+" "+acme.VAT+" "+acme.Total, "acme 75.00 0.21 15.75 90.75")
	want(t, "beta", beta.Account+" "+beta.Net+" "+beta.VATCategory+" "+beta.VAT+" "+beta.Total, "beta 78.00 AE 0.00 78.00")
	want(t, "gamma", gamma.Account+" "+gamma.Net+" "+gamma.VATCategory+" "+gamma.VAT+" "+gamma.Total, "gamma 8.10 O 0.00 8.10")
	if !strings.Contains(strings.Join(beta.Notes, " "), "Reverse charge") || !strings.Contains(strings.Join(beta.Notes, " "), "BE0123456789") {
		t.Errorf("beta's notes %q: want the reverse-charge mention with its VAT ID", beta.Notes)
	}
	var kinds []string
	for _, l := range beta.Lines {
		kinds = append(kinds, l.Kind+" "+l.Amount)
	}
	want(t, "beta's lines", strings.Join(kinds, ", "), "usage 68.00, surcharge 10.00")
	if a := e.account("acme"); a.Exposure != "90.750000" {
		t.Errorf("acme's exposure %s after invoicing, want 90.750000 (R4: outstanding invoices)", a.Exposure)
	}
	e.eventually(10e9, func() error {
		if n := len(e.billingOn("billing.invoice.issued")); n != 3 {
			return fmt.Errorf("%d billing.invoice.issued, want 3", n)
		}
		return nil
	})

	// Exports: every UBL document passes EN 16931; the CSV has one row per invoice.
	dir := t.TempDir()
	var files []string
	for _, inv := range list {
		f := filepath.Join(dir, inv.ID+".xml")
		os.WriteFile(f, e.get("/v1/invoices/"+inv.ID+".xml"), 0o644)
		files = append(files, f)
	}
	zipBody := e.get("/v1/exports/invoices?period=2026-03&format=ubl")
	zr, err := zip.NewReader(bytes.NewReader(zipBody), int64(len(zipBody)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 3 {
		t.Errorf("the UBL export holds %d files, want 3", len(zr.File))
	}
	rows, err := csv.NewReader(bytes.NewReader(e.get("/v1/exports/invoices?period=2026-03&format=csv"))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV export: %d rows (%v), want a header and 3", len(rows), err)
	}

	// A payment of 100.00 settles acme's 90.75; 9.25 is its credit (R8).
	e.setClock("2026-04-10T12:00:00Z")
	var pay struct {
		Allocations []struct{ InvoiceID, Amount string }
		Credit      string
	}
	if status, raw := e.do("POST", "/v1/accounts/acme/payments", map[string]any{"id": "p-1", "amount": "100.00",
		"received_at": "2026-04-10T10:00:00Z", "sepa": true}, &pay); status != 201 {
		t.Fatalf("payment: %d %s", status, raw)
	}
	want(t, "credit", pay.Credit, "9.25")
	want(t, "acme's status", e.invoices("account=acme")[0].Status, "paid")

	// gamma disputes 2.00 on its due date (22:00 CEST): in time; accepted, a credit note.
	e.setClock("2026-04-15T20:00:00Z")
	if status, raw := e.do("POST", "/v1/invoices/"+gamma.ID+"/disputes", map[string]any{"id": "d-1", "amount": "2.00", "reason": "test traffic"}, nil); status != 201 {
		t.Fatalf("dispute on the due date: %d %s", status, raw)
	}
	if status, raw := e.do("POST", "/v1/disputes/d-1/resolve", map[string]any{"outcome": "accepted"}, nil); status != 200 {
		t.Fatalf("resolve: %d %s", status, raw)
	}
	var notes struct {
		Items []struct{ ID, Total string }
	}
	e.do("GET", "/v1/credit-notes?account=gamma", nil, &notes)
	if len(notes.Items) != 1 || notes.Items[0].Total != "2.00" {
		t.Fatalf("credit notes %+v", notes.Items)
	}
	f := filepath.Join(dir, notes.Items[0].ID+".xml")
	os.WriteFile(f, e.get("/v1/credit-notes/"+notes.Items[0].ID+".xml"), 0o644)
	files = append(files, f)
	want(t, "gamma's outstanding", e.invoices("account=gamma")[0].Outstanding, "6.10")
	// The printable documents (CONTRACT 3.11): a PDF each, downloadable, naming what they are.
	for _, path := range []string{"/v1/credit-notes/" + notes.Items[0].ID + ".pdf", "/v1/invoices/" + e.invoices("account=gamma")[0].ID + ".pdf"} {
		resp, err := http.Get("http://" + e.svc.HTTPAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), ".pdf") {
			t.Errorf("GET %s: %d %s %q, want a PDF download", path, resp.StatusCode, resp.Header.Get("Content-Type"), body[:min(len(body), 40)])
		}
	}
	// The UBL export of April holds the credit note issued in April (R5: credit notes likewise).
	aprilZip := e.get("/v1/exports/invoices?period=2026-04&format=ubl")
	if zr, err := zip.NewReader(bytes.NewReader(aprilZip), int64(len(aprilZip))); err != nil || len(zr.File) != 1 ||
		zr.File[0].Name != notes.Items[0].ID+".xml" {
		t.Errorf("April's UBL export: %v, %d files, want the credit note", err, len(zr.File))
	}
	marchPDFs := e.get("/v1/exports/invoices?period=2026-03&format=pdf")
	if zr, err := zip.NewReader(bytes.NewReader(marchPDFs), int64(len(marchPDFs))); err != nil || len(zr.File) != 3 ||
		!strings.HasSuffix(zr.File[0].Name, ".pdf") {
		t.Errorf("March's PDF export: %v, want its 3 invoices as PDF", err)
	}
	if status, raw := e.do("GET", "/v1/invoices?after=INV-1999-000001", nil, nil); status != 400 {
		t.Errorf("a cursor naming no invoice: %d %s, want 400", status, raw)
	}

	// The day after the due date: beta's dispute is refused; beta is overdue.
	e.setClock("2026-04-15T22:00:00Z")
	status, raw := e.do("POST", "/v1/invoices/"+beta.ID+"/disputes", map[string]any{"id": "d-2", "amount": "5.00", "reason": "late"}, nil)
	if status != 422 || !strings.Contains(string(raw), "T&C 3.11") {
		t.Errorf("dispute the day after the due date: %d %s, want 422 citing T&C 3.11", status, raw)
	}
	b := e.invoices("account=beta")[0]
	want(t, "beta's status", b.Status+" "+b.OverdueSince, "overdue 2026-04-16")
	e.eventually(10e9, func() error {
		if n := len(e.billingOn("billing.invoice.overdue")); n != 2 { // beta and gamma (6.10 left)
			return fmt.Errorf("%d billing.invoice.overdue, want 2", n)
		}
		return nil
	})
	if metrics := string(e.get("/metrics")); !strings.Contains(metrics, "ledger_receivables_overdue_eur 84.1") {
		t.Errorf("ledger_receivables_overdue_eur: want 84.1 (78.00 + 6.10) in\n%s", grepLines(metrics, "receivables"))
	}

	// Termination: closed, and later traffic is parked (R13).
	var acct account
	if status, raw := e.do("POST", "/v1/accounts/beta/terminate", map[string]any{}, &acct); status != 200 {
		t.Fatalf("terminate: %d %s", status, raw)
	}
	want(t, "beta after termination", acct.Status, "closed")
	ubltest.Validate(t, files...)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// R5, R6 after downtime: ledgerd stopped in March and started again on 20 April runs, before
// it charges anything, what fell due meanwhile: March's billing run. The invoice is issued that
// day, 20 April, not back-dated to 1 April: it is due 14 days later (T&C 3.7) and not overdue at
// birth, so no interest or collection costs come of the downtime (R6). It is announced.
func TestInvoices_catch_up_after_downtime(t *testing.T) {
	e := start(t)
	e.createAccount("acme", nil)
	e.publish(nil, smsAt("a-1", "acme", 1000, "2026-03-10T08:00:00Z"))
	e.waitUnbilled("acme", "75.000000")
	e.stop()
	// While it is down, time passes: the test clock as a restart finds it.
	store, err := sql.Open(context.Background(), e.cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	later, _ := time.Parse(time.RFC3339, "2026-04-20T10:00:00Z")
	if err := store.SaveTestClock(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	store.Close()
	e.launch()
	list := e.invoices("account=acme")
	if len(list) != 1 {
		t.Fatalf("%d invoices after the restart, want March's", len(list))
	}
	want(t, "March's invoice", list[0].IssueDate+" "+list[0].DueDate+" "+list[0].Total+" "+list[0].Status,
		"2026-04-20 2026-05-04 90.75 open")
	// Overdue the day after its real due date, and only then.
	e.setClock("2026-05-04T20:00:00Z")
	want(t, "on the due date", e.invoices("account=acme")[0].Status, "open")
	e.setClock("2026-05-05T08:00:00Z")
	list = e.invoices("account=acme")
	want(t, "the day after", list[0].Status+" "+list[0].OverdueSince, "overdue 2026-05-05")
	// The notices went out while the test's subscriber was not yet listening: read the stream.
	e.eventually(10*time.Second, func() error {
		stream, err := e.js.Stream(context.Background(), "BILLING")
		if err != nil {
			return err
		}
		info, err := stream.Info(context.Background(), jetstream.WithSubjectFilter("billing.invoice.>"))
		if err != nil {
			return err
		}
		if got := info.State.Subjects; got["billing.invoice.issued"] != 1 || got["billing.invoice.overdue"] != 1 {
			return fmt.Errorf("invoice notices in BILLING: %v, want one issued and one overdue", got)
		}
		return nil
	})
}
