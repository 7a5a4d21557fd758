package api

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

// Limits of the exports (GET /v1/exports/invoices).
const (
	// MaxExportInvoices bounds a CSV export, which is built in memory: a month of invoices for
	// up to this many accounts.
	MaxExportInvoices = 200_000
	// ExportPage is how many invoices the UBL export reads at a time.
	ExportPage = 500
)

type lineJSON = wire.Line

type vatJSON = wire.VATSubtotal

type invoiceJSON = wire.Invoice

func linesJSON(lines []invoices.Line, vat invoices.VAT) []lineJSON {
	out := make([]lineJSON, len(lines))
	for i, l := range lines {
		category := vat.Category
		if l.VAT != nil {
			category = l.VAT.Category
		}
		var period string
		if l.Period != (invoices.Period{}) {
			period = l.Period.String()
		}
		out[i] = lineJSON{Kind: l.Kind, Description: l.Description, Channel: l.Channel, Product: l.Product, Country: l.Country,
			Period: period, Quantity: l.Quantity.String(), Unit: l.Unit, UnitPrice: money.FormatCharge(l.UnitPrice),
			Amount: money.FormatInvoice(l.Amount), Concerns: l.Concerns, VATCategory: category}
	}
	return out
}

func breakdownJSON(b []invoices.TaxSubtotal) []vatJSON {
	out := make([]vatJSON, len(b))
	for i, s := range b {
		out[i] = vatJSON{Category: s.VAT.Category, Rate: s.VAT.Rate.String(), Taxable: money.FormatInvoice(s.Taxable), Tax: money.FormatInvoice(s.Tax)}
	}
	return out
}

func notesOf(notes []string) []string {
	if notes == nil {
		return []string{}
	}
	return notes
}

func invoiceOf(v billing.InvoiceView) invoiceJSON {
	return invoiceJSON{ID: v.Number, Account: v.Account, Customer: v.Customer.Name, Period: v.Period.String(),
		IssueDate: v.IssueDate.String(), DueDate: v.DueDate.String(), DueNow: v.DueNow, Status: v.Status, Currency: v.Currency,
		Lines: linesJSON(v.Lines, v.VAT), Net: money.FormatInvoice(v.Net), VATRate: v.VAT.Rate.String(), VATCategory: v.VAT.Category,
		VAT: money.FormatInvoice(v.Tax), VATBreakdown: breakdownJSON(v.Breakdown), Total: money.FormatInvoice(v.Total),
		Outstanding: money.FormatInvoice(v.Outstanding.Decimal()), Disputed: money.FormatInvoice(v.Disputed.Decimal()),
		OverdueSince: v.OverdueSince, Notes: notesOf(v.Notes)}
}

type billingRunJSON = wire.BillingRun

// runBilling invoices a period on request (CONTRACT 3.3; R5): earlier periods not yet run run
// first. A period runs once: asked for again — or after the clock ran it at the start of the
// next month — it answers the invoices that run issued, marked ran_before, and issues nothing.
// A period that has not ended is 409.
func (s *Server) runBilling(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		Period string `json:"period"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	period, err := invoices.ParsePeriod(req.Period)
	if err != nil {
		return err
	}
	runs, ranBefore, err := s.Billing.RunBilling(r.Context(), period, who.Name)
	if err != nil {
		return err
	}
	out := make([]billingRunJSON, 0, len(runs))
	for _, run := range runs {
		rj := billingRunJSON{Period: run.Period.String(), RanAt: run.RanAt.Format(time.RFC3339), By: run.By, RanBefore: ranBefore,
			Invoices: []invoiceJSON{}}
		for _, id := range run.Invoices {
			v, err := s.Billing.Receivables.Invoice(r.Context(), id)
			if err != nil {
				return err
			}
			rj.Invoices = append(rj.Invoices, invoiceOf(v))
		}
		out = append(out, rj) // the run logged itself (billing.Service.Log)
	}
	last := out[len(out)-1]
	writeJSON(w, http.StatusOK, map[string]any{"period": last.Period, "ran_at": last.RanAt, "ran_before": ranBefore,
		"invoices": last.Invoices, "runs": out})
	return nil
}

var invoiceStatuses = map[string]bool{"open": true, "paid": true, "overdue": true, "disputed": true, "credited": true}

func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := idPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := billing.InvoiceFilter{Account: q.Get("account"), Period: q.Get("period"), Status: q.Get("status")}
	if f.Period != "" {
		if _, err := invoices.ParsePeriod(f.Period); err != nil {
			return err
		}
	}
	if f.Status != "" && !invoiceStatuses[f.Status] {
		return ledger.Errorf(ledger.CodeInvalid, "status %q is not one of open, paid, overdue, disputed, credited", f.Status)
	}
	views, err := s.Billing.Receivables.Invoices(r.Context(), f, after, limit)
	if err != nil {
		return err
	}
	items := make([]invoiceJSON, len(views))
	last := ""
	for i, v := range views {
		items[i], last = invoiceOf(v), v.Number
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextID(len(items), limit, last)})
	return nil
}

// documentFormat splits a document's path id: INV-…, INV-….xml (UBL) or INV-….pdf.
func documentFormat(pathID string) (id, format string) {
	for _, f := range []string{"xml", "pdf"} {
		if id, ok := strings.CutSuffix(pathID, "."+f); ok {
			return id, f
		}
	}
	return pathID, "json"
}

// getInvoice answers an invoice as JSON, with .xml as its UBL 2.1 document (PEPPOL BIS 3.0), or
// with .pdf as the printable document (CONTRACT 3.11).
func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, format := documentFormat(r.PathValue("id"))
	v, err := s.Billing.Receivables.Invoice(r.Context(), id)
	if err != nil {
		return err
	}
	if format != "json" {
		return writeDocument(w, id, format, func(out io.Writer) error { return s.invoiceDocument(out, v, format) })
	}
	writeJSON(w, http.StatusOK, invoiceOf(v))
	return nil
}

// invoiceDocument writes an invoice's document: "xml" its UBL 2.1 (PEPPOL BIS 3.0), "pdf" the
// printable one, which also says when termination made it due at once (CONTRACT 3.11).
func (s *Server) invoiceDocument(out io.Writer, v billing.InvoiceView, format string) error {
	if format == "pdf" {
		return invoices.WritePDFInvoice(out, v.Invoice, s.Seller, v.DueNow)
	}
	return invoices.WriteUBLInvoice(out, v.Invoice, s.Seller)
}

// creditNoteDocument writes a credit note's document, as invoiceDocument does.
func (s *Server) creditNoteDocument(out io.Writer, cn invoices.CreditNote, format string) error {
	if format == "pdf" {
		return invoices.WritePDFCreditNote(out, cn, s.Seller)
	}
	return invoices.WriteUBLCreditNote(out, cn, s.Seller)
}

// documentTypes are the content types of the documents.
var documentTypes = map[string]string{"xml": "application/xml", "pdf": "application/pdf"}

// writeDocument answers a UBL or PDF document as a download, written whole before the first
// byte goes out: a document that cannot be written is an error answer, not half a file.
func writeDocument(w http.ResponseWriter, id, format string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", documentTypes[format])
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", id+"."+format))
	_, err := w.Write(buf.Bytes())
	return err
}

type creditNoteJSON = wire.CreditNote

func creditNoteOf(c invoices.CreditNote) creditNoteJSON {
	return creditNoteJSON{ID: c.Number, Account: c.Account, Invoice: c.InvoiceNumber, IssueDate: c.IssueDate.String(),
		Currency: c.Currency, Reason: c.Reason, Lines: linesJSON(c.Lines, c.VAT), Net: money.FormatInvoice(c.Net),
		VATRate: c.VAT.Rate.String(), VAT: money.FormatInvoice(c.Tax), VATBreakdown: breakdownJSON(c.Breakdown),
		Total: money.FormatInvoice(c.Total), Notes: notesOf(c.Notes)}
}

func (s *Server) listCreditNotes(w http.ResponseWriter, r *http.Request, _ principal) error {
	after, limit, err := idPage(r)
	if err != nil {
		return err
	}
	views, err := s.Billing.Receivables.CreditNotes(r.Context(), r.URL.Query().Get("account"), after, limit)
	if err != nil {
		return err
	}
	items := make([]creditNoteJSON, len(views))
	last := ""
	for i, v := range views {
		items[i], last = creditNoteOf(v), v.Number
	}
	writeJSON(w, http.StatusOK, list{Items: items, Next: nextID(len(items), limit, last)})
	return nil
}

func (s *Server) getCreditNote(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, format := documentFormat(r.PathValue("id"))
	v, err := s.Billing.Receivables.CreditNote(r.Context(), id)
	if err != nil {
		return err
	}
	if format != "json" {
		return writeDocument(w, id, format, func(out io.Writer) error { return s.creditNoteDocument(out, v, format) })
	}
	writeJSON(w, http.StatusOK, creditNoteOf(v))
	return nil
}

// exportInvoices answers a period's invoices as CSV for bookkeeping (one row per invoice) or
// as a zip of UBL documents with the credit notes issued in the period's month (R5).
func (s *Server) exportInvoices(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	period, err := invoices.ParsePeriod(q.Get("period"))
	if err != nil {
		return err
	}
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "ubl" && format != "pdf" {
		return ledger.Errorf(ledger.CodeInvalid, "format %q is not csv, ubl or pdf", format)
	}
	name := "invoices-" + period.String()
	if format == "csv" {
		views, err := s.Billing.Receivables.Invoices(r.Context(), billing.InvoiceFilter{Period: period.String()}, "", MaxExportInvoices+1)
		if err != nil {
			return err
		}
		if len(views) > MaxExportInvoices {
			return ledger.Errorf(ledger.CodeConflict, "period %s has more than %d invoices: export it by account", period, MaxExportInvoices)
		}
		docs := make([]invoices.Invoice, len(views))
		standing := make(map[string]invoices.Standing, len(views))
		for i, v := range views {
			docs[i] = v.Invoice
			standing[v.Number] = invoices.Standing{Status: v.Status, Outstanding: v.Outstanding.Decimal()}
		}
		notes, err := s.Billing.Receivables.CreditNotesIssuedIn(r.Context(), period)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
		return invoices.WriteCSV(w, docs, standing, notes...)
	}
	notes, err := s.Billing.Receivables.CreditNotesIssuedIn(r.Context(), period)
	if err != nil {
		return err
	}
	// UBL documents, or the printable ones (CONTRACT 3.11), a file each.
	ext := "xml"
	if format == "pdf" {
		ext = "pdf"
	}
	// The zip is written as the invoices are read, a page at a time, so that memory does not grow
	// with the number of invoices. A document that cannot be written ends the response early:
	// the zip is then truncated, which any unzip reports.
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".zip"))
	z := zip.NewWriter(w)
	for after := ""; ; {
		views, err := s.Billing.Receivables.Invoices(r.Context(), billing.InvoiceFilter{Period: period.String()}, after, ExportPage)
		if err != nil {
			return err
		}
		for _, v := range views {
			f, err := z.CreateHeader(&zip.FileHeader{Name: v.Number + "." + ext, Method: zip.Deflate, Modified: v.IssueDate.Start()})
			if err != nil {
				return err
			}
			if err := s.invoiceDocument(f, v, ext); err != nil {
				return err
			}
		}
		if len(views) < ExportPage {
			break
		}
		after = views[len(views)-1].Number
	}
	for _, cn := range notes {
		f, err := z.CreateHeader(&zip.FileHeader{Name: cn.Number + "." + ext, Method: zip.Deflate, Modified: cn.IssueDate.Start()})
		if err != nil {
			return err
		}
		if err := s.creditNoteDocument(f, cn, ext); err != nil {
			return err
		}
	}
	return z.Close()
}

// addPayment records a payment (CONTRACT 3.2; R5, T&C 3.7, 3.9). Idempotent on id.
func (s *Server) addPayment(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		ID         string `json:"id"`
		Amount     string `json:"amount"`
		ReceivedAt string `json:"received_at"`
		InvoiceID  string `json:"invoice_id"`
		SEPA       *bool  `json:"sepa"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p := billing.NewPayment{ID: req.ID, Invoice: req.InvoiceID, SEPA: true}
	var err error
	if p.Amount, err = ledger.ParseAmount("amount", req.Amount); err != nil {
		return err
	}
	if req.ReceivedAt != "" {
		if p.ReceivedAt, err = parseInstant("received_at", req.ReceivedAt); err != nil {
			return err
		}
	}
	if req.SEPA != nil {
		p.SEPA = *req.SEPA
	}
	id := r.PathValue("id")
	v, created, err := s.Billing.AddPayment(r.Context(), id, p, who.Name)
	if err != nil {
		return err
	}
	type allocationJSON struct {
		Invoice string `json:"invoice_id"`
		Amount  string `json:"amount"`
	}
	allocations := make([]allocationJSON, len(v.Allocations))
	for i, a := range v.Allocations {
		allocations[i] = allocationJSON{a.Invoice, money.FormatInvoice(a.Amount.Decimal())}
	}
	s.written(w, r, created, map[string]any{"id": v.ID, "account": v.Account, "amount": money.FormatInvoice(v.Amount.Decimal()),
		"received_at": v.ReceivedAt.Format(time.RFC3339Nano), "invoice_id": v.Invoice, "sepa": v.SEPA,
		"allocations": allocations, "credit": money.FormatInvoice(v.Credit.Decimal())},
		slog.LevelInfo, "payment booked", "account", id, "payment", p.ID, "amount", p.Amount.String(), "by", who.Name)
	return nil
}

type disputeJSON = wire.Dispute

func disputeOf(v billing.DisputeView) disputeJSON {
	out := disputeJSON{ID: v.ID, Invoice: v.Invoice, Account: v.Account, Amount: money.FormatInvoice(v.Amount.Decimal()),
		Reason: v.Reason, Status: v.Status,
		OpenedAt: v.OpenedAt.Format(time.RFC3339Nano), CreditNote: v.CreditNote}
	if !v.ResolvedAt.IsZero() {
		out.ResolvedAt = v.ResolvedAt.Format(time.RFC3339Nano)
	}
	return out
}

// openDispute disputes an invoice (CONTRACT 3.3; R7, T&C 3.11): within the payment term only.
func (s *Server) openDispute(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		ID     string `json:"id"`
		Amount string `json:"amount"`
		Reason string `json:"reason"`
		At     string `json:"at"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	d := billing.NewDispute{ID: req.ID, Reason: req.Reason}
	var err error
	if d.Amount, err = ledger.ParseAmount("amount", req.Amount); err != nil {
		return err
	}
	if req.At != "" {
		if d.At, err = parseInstant("at", req.At); err != nil {
			return err
		}
	}
	v, created, err := s.Billing.OpenDispute(r.Context(), r.PathValue("id"), d)
	if err != nil {
		return err
	}
	s.written(w, r, created, disputeOf(v), slog.LevelInfo, "dispute opened", "invoice", v.Invoice, "dispute", v.ID,
		"amount", v.Amount.String(), "by", who.Name)
	return nil
}

func (s *Server) getDispute(w http.ResponseWriter, r *http.Request, _ principal) error {
	v, err := s.Billing.Receivables.Dispute(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, disputeOf(v))
	return nil
}

// resolveDispute closes a dispute (R7): accepted → a credit note; rejected → due at once.
func (s *Server) resolveDispute(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		Outcome string `json:"outcome"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	v, err := s.Billing.ResolveDispute(r.Context(), r.PathValue("id"), req.Outcome, who.Name)
	if err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("dispute resolved", "dispute", v.ID, "outcome", v.Status, "credit_note", v.CreditNote, "by", who.Name)
	}
	writeJSON(w, http.StatusOK, disputeOf(v))
	return nil
}

// terminate ends an agreement (CONTRACT 3.1; R13, T&C 10.7).
func (s *Server) terminate(w http.ResponseWriter, r *http.Request, who principal) error {
	var req struct {
		At string `json:"at"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	var at time.Time // zero: now
	if req.At != "" {
		var err error
		if at, err = parseInstant("at", req.At); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	if err := s.Billing.Terminate(r.Context(), id, at, who.Name); err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Info("agreement terminated", "account", id, "at", at, "by", who.Name)
	}
	return s.getAccount(w, r, who)
}
