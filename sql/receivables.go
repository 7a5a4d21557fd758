package sql

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

// settle records part of an invoice settled (a payment, a set-off or a credit note) as of a date,
// and announces the invoice paid when nothing is left outstanding.
func (s *Store) settle(ctx context.Context, invoice, kind, source string, amount money.Micros, on clock.LocalDate, txID int64, at time.Time) error {
	credited := int64(0)
	if kind == "credit_note" {
		credited = int64(amount)
	}
	var account, due string
	var total, settled, creditedTotal int64
	if err := s.write.QueryRowContext(ctx, `UPDATE invoices SET settled_micros = settled_micros + ?, credited_micros = credited_micros + ?
		WHERE id = ? RETURNING account_id, total_micros, settled_micros, credited_micros, due_date`, int64(amount), credited, invoice).Scan(&account, &total, &settled, &creditedTotal, &due); err != nil {
		return fmt.Errorf("settle %s: %w", invoice, err)
	}
	dueDate, err := clock.ParseDate(due)
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO settlements(invoice_id, kind, source_id, amount_micros, on_date, transaction_id)
		VALUES (?, ?, ?, ?, ?, ?)`, invoice, kind, source, int64(amount), on.String(), txID); err != nil {
		return fmt.Errorf("settle %s: %w", invoice, err)
	}
	if settled == total && creditedTotal < total {
		return s.appendOutbox(ctx, invoiceNotice(ledger.SubjectInvoicePaid, account, invoice, money.Micros(total), 0, dueDate, at), fmtTime(at))
	}
	return nil
}

// payables lists an account's invoices with an undisputed amount outstanding, oldest due first
// (R5: payments go to the oldest due invoice first).
func (s *Store) payables(ctx context.Context, account string) ([]invoices.Payable, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT id, total_micros - settled_micros - disputed_micros FROM invoices
		WHERE account_id = ? AND total_micros - settled_micros - disputed_micros > 0 ORDER BY `+effectiveDue+`, year, seq`, account)
	if err != nil {
		return nil, fmt.Errorf("open invoices of %s: %w", account, err)
	}
	defer rows.Close()
	var out []invoices.Payable
	for rows.Next() {
		var p invoices.Payable
		if err := rows.Scan(&p.Invoice, &p.Open); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// setOffCredit applies the customer's credit (overpayments, credit notes beyond what their
// invoice owed) to its oldest open invoices (invoices.Allocate), each application its own
// transaction (R8, T&C 3.10).
func (s *Store) setOffCredit(ctx context.Context, account string, at time.Time) error {
	// A customer who never had credit has no credit account (it is created by the payment or
	// credit note that gives the credit, which commits before any set-off runs).
	id, ok := s.ledgerAccountID(ledger.CustomerCredit(account))
	if !ok {
		if id, ok = s.pendingLedgerAccount(ledger.CustomerCredit(account)); !ok {
			return nil
		}
	}
	var balance int64
	if err := s.stmts["balance"].QueryRowContext(ctx, id).Scan(&balance); err != nil {
		return err
	}
	balance += s.balanceDeltas[id] // what a pipelined run holds back until its end (pipeline.go)
	if balance >= 0 {
		return nil
	}
	open, err := s.payables(ctx, account)
	if err != nil {
		return err
	}
	setOff, _ := invoices.Allocate(open, "", money.Micros(-balance))
	for _, a := range setOff {
		p, amount := a.Invoice, a.Amount
		tx, err := invoices.SetOffTransaction(account, p, amount, at)
		if err != nil {
			return err
		}
		txID, err := s.postTransaction(ctx, tx, "set-off")
		if err != nil {
			return err
		}
		if err := s.settle(ctx, p, "set_off", "credit", amount, clock.DateOf(at), txID, at); err != nil {
			return err
		}
		if err := s.evaluateCredit(ctx, &tx, at); err != nil {
			return err
		}
	}
	return nil
}

// WithReceivables runs fn in one write transaction, under the writer's lock
// (billing.ReceivableStore).
func (s *Store) WithReceivables(ctx context.Context, fn func(tx billing.ReceivableTx) error) error {
	return s.inWrite(ctx, func() error { return fn(writeTx{s, ctx}) })
}

func (t writeTx) PaymentExists(account, id string) (bool, error) {
	return t.exists(`SELECT count(*) FROM payments WHERE account_id = ? AND id = ?`, account, id)
}

func (t writeTx) InvoiceAccount(invoice string) (string, error) {
	var owner string
	err := t.s.write.QueryRowContext(t.ctx, `SELECT account_id FROM invoices WHERE id = ?`, invoice).Scan(&owner)
	if errors.Is(err, stdsql.ErrNoRows) {
		return "", ledger.Errorf(ledger.CodeNotFound, "invoice %q does not exist", invoice)
	}
	return owner, err
}

func (t writeTx) Payables(account string) ([]invoices.Payable, error) {
	return t.s.payables(t.ctx, account)
}

// SavePayment books the payment's journal transaction, the payment, each invoice's settlement
// and credit control.
func (t writeTx) SavePayment(d billing.PaymentDecision) error {
	s, ctx, p := t.s, t.ctx, d.Payment
	txID, err := s.postTransaction(ctx, d.Transaction, d.By)
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO payments(id, account_id, amount_micros, received_at, invoice_id, sepa,
		transaction_id, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, d.Account, int64(p.Amount),
		fmtTime(p.ReceivedAt), p.Invoice, p.SEPA, txID, fmtTime(d.At), d.By); err != nil {
		return fmt.Errorf("record payment: %w", err)
	}
	for _, a := range d.Allocations {
		if err := s.settle(ctx, a.Invoice, "payment", p.ID, a.Amount, clock.DateOf(p.ReceivedAt), txID, d.At); err != nil {
			return err
		}
	}
	return s.evaluateCredit(ctx, &d.Transaction, d.At)
}

// postpaidAccount refuses what only a postpaid account can have.
func (s *Store) postpaidAccount(ctx context.Context, account, what string) error {
	typ, err := accountType(ctx, s.write, account)
	if err != nil {
		return err
	}
	return ledger.RequirePostpaid(account, typ, what)
}

// Payment reads one payment with its allocation.
func (s *Store) Payment(ctx context.Context, account, id string) (billing.PaymentView, error) {
	var v billing.PaymentView
	var received string
	var txID int64
	err := s.db.QueryRowContext(ctx, `SELECT id, account_id, amount_micros, received_at, invoice_id, sepa, transaction_id
		FROM payments WHERE account_id = ? AND id = ?`, account, id).Scan(&v.ID, &v.Account, &v.Amount, &received, &v.Invoice, &v.SEPA, &txID)
	if errors.Is(err, stdsql.ErrNoRows) {
		return billing.PaymentView{}, ledger.Errorf(ledger.CodeNotFound, "account %q has no payment %q", account, id)
	}
	if err != nil {
		return billing.PaymentView{}, err
	}
	if v.ReceivedAt, err = parseTime(received); err != nil {
		return billing.PaymentView{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT invoice_id, amount_micros FROM settlements WHERE transaction_id = ? ORDER BY id`, txID)
	if err != nil {
		return billing.PaymentView{}, err
	}
	defer rows.Close()
	allocated := money.Micros(0)
	for rows.Next() {
		var a invoices.Allocation
		if err := rows.Scan(&a.Invoice, &a.Amount); err != nil {
			return billing.PaymentView{}, err
		}
		v.Allocations = append(v.Allocations, a)
		allocated += a.Amount
	}
	v.Credit = v.Amount - allocated
	return v, rows.Err()
}

const invoiceSelect = `SELECT document, ` + invoiceStatus + `, total_micros - settled_micros, disputed_micros,
	coalesce(overdue_since, ''), coalesce(due_now, '') FROM invoices`

func scanInvoice(scan func(...any) error) (billing.InvoiceView, error) {
	var v billing.InvoiceView
	var doc []byte
	if err := scan(&doc, &v.Status, &v.Outstanding, &v.Disputed, &v.OverdueSince, &v.DueNow); err != nil {
		return billing.InvoiceView{}, err
	}
	if err := json.Unmarshal(doc, &v.Invoice); err != nil {
		return billing.InvoiceView{}, fmt.Errorf("invoice document: %w", err)
	}
	return v, nil
}

// Invoice reads one invoice.
func (s *Store) Invoice(ctx context.Context, id string) (billing.InvoiceView, error) {
	v, err := scanInvoice(s.db.QueryRowContext(ctx, invoiceSelect+` WHERE id = ?`, id).Scan)
	if errors.Is(err, stdsql.ErrNoRows) {
		return billing.InvoiceView{}, ledger.Errorf(ledger.CodeNotFound, "invoice %q does not exist", id)
	}
	return v, err
}

// Invoices lists invoices in the order they were issued, after the invoice named by after (a
// cursor naming no invoice is an error, not the start of the list).
func (s *Store) Invoices(ctx context.Context, f billing.InvoiceFilter, after string, limit int) ([]billing.InvoiceView, error) {
	if err := s.checkCursor(ctx, "invoices", after); err != nil {
		return nil, err
	}
	q := invoiceSelect + ` WHERE rowid > coalesce((SELECT rowid FROM invoices WHERE id = ?), 0)`
	args := []any{after}
	if f.Account != "" {
		q += ` AND account_id = ?`
		args = append(args, f.Account)
	}
	if f.Period != "" {
		q += ` AND period = ?`
		args = append(args, f.Period)
	}
	if f.Status != "" {
		q += ` AND ` + invoiceStatus + ` = ?`
		args = append(args, f.Status)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY rowid LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	defer rows.Close()
	var out []billing.InvoiceView
	for rows.Next() {
		v, err := scanInvoice(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// OverdueTotal is what all overdue invoices leave outstanding and not disputed (R7: a disputed
// amount is not overdue): ledger_receivables_overdue_eur.
func (s *Store) OverdueTotal(ctx context.Context) (money.Micros, error) {
	var m money.Micros
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(total_micros - settled_micros - disputed_micros), 0) FROM invoices
		WHERE overdue_since IS NOT NULL AND total_micros - settled_micros - disputed_micros > 0`).Scan(&m)
	return m, err
}

// invoiceRow is what changing an invoice's standing needs.
type invoiceRow struct {
	id, account                string
	total, settled, disputed   int64
	effectiveDue, overdueSince string
	doc                        invoices.Invoice
}

func (s *Store) invoiceForUpdate(ctx context.Context, id string) (invoiceRow, error) {
	var r invoiceRow
	var doc []byte
	err := s.write.QueryRowContext(ctx, `SELECT id, account_id, total_micros, settled_micros, disputed_micros, `+effectiveDue+`,
		coalesce(overdue_since, ''), document FROM invoices WHERE id = ?`, id).Scan(&r.id, &r.account, &r.total, &r.settled,
		&r.disputed, &r.effectiveDue, &r.overdueSince, &doc)
	if errors.Is(err, stdsql.ErrNoRows) {
		return invoiceRow{}, ledger.Errorf(ledger.CodeNotFound, "invoice %q does not exist", id)
	}
	if err != nil {
		return invoiceRow{}, err
	}
	return r, json.Unmarshal(doc, &r.doc)
}

// Dispute reads one dispute.
func (s *Store) Dispute(ctx context.Context, id string) (billing.DisputeView, error) {
	return readDispute(ctx, s.db, id)
}

func readDispute(ctx context.Context, q rowQuerier, id string) (billing.DisputeView, error) {
	var v billing.DisputeView
	var opened string
	var resolved instant
	err := q.QueryRowContext(ctx, `SELECT id, invoice_id, account_id, amount_micros, reason, status, opened_at,
		resolved_at, coalesce(credit_note_id, '') FROM disputes WHERE id = ?`, id).Scan(&v.ID, &v.Invoice, &v.Account,
		&v.Amount, &v.Reason, &v.Status, &opened, &resolved, &v.CreditNote)
	if errors.Is(err, stdsql.ErrNoRows) {
		return billing.DisputeView{}, ledger.Errorf(ledger.CodeNotFound, "dispute %q does not exist", id)
	}
	if err != nil {
		return billing.DisputeView{}, err
	}
	if v.OpenedAt, err = parseTime(opened); err != nil {
		return billing.DisputeView{}, err
	}
	v.ResolvedAt = resolved.Time
	return v, nil
}

func (t writeTx) DisputeExists(id string) (bool, error) {
	return t.exists(`SELECT count(*) FROM disputes WHERE id = ?`, id)
}

func (t writeTx) InvoiceStanding(invoice string) (billing.InvoiceStanding, error) {
	inv, err := t.s.invoiceForUpdate(t.ctx, invoice)
	if err != nil {
		return billing.InvoiceStanding{}, err
	}
	due, err := clock.ParseDate(inv.effectiveDue)
	if err != nil {
		return billing.InvoiceStanding{}, err
	}
	return billing.InvoiceStanding{Invoice: inv.id, Account: inv.account, Due: due,
		Open: money.Micros(inv.total - inv.settled - inv.disputed)}, nil
}

func (t writeTx) SaveDispute(inv billing.InvoiceStanding, d billing.NewDispute) error {
	if _, err := t.s.write.ExecContext(t.ctx, `INSERT INTO disputes(id, invoice_id, account_id, amount_micros, reason, opened_at, status)
		VALUES (?, ?, ?, ?, ?, ?, 'open')`, d.ID, inv.Invoice, inv.Account, int64(d.Amount), d.Reason, fmtTime(d.At)); err != nil {
		return fmt.Errorf("record dispute: %w", err)
	}
	_, err := t.s.write.ExecContext(t.ctx, `UPDATE invoices SET disputed_micros = disputed_micros + ? WHERE id = ?`, int64(d.Amount), inv.Invoice)
	return err
}

func (t writeTx) DisputeForUpdate(id string) (billing.DisputeView, error) {
	return readDispute(t.ctx, t.s.write, id)
}

// SaveResolution closes an open dispute, issuing its credit note when accepted; then the
// customer's credit is set off (rejected: against the amount now due at once, R8) and what is
// past its due date is overdue from the day after it.
func (t writeTx) SaveResolution(v billing.DisputeView, outcome string, now time.Time) error {
	s, ctx := t.s, t.ctx
	inv, err := s.invoiceForUpdate(ctx, v.Invoice)
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE invoices SET disputed_micros = disputed_micros - ? WHERE id = ?`, int64(v.Amount), v.Invoice); err != nil {
		return err
	}
	creditNote := ""
	if outcome == ledger.DisputeAccepted {
		if creditNote, err = s.issueCreditNote(ctx, inv, v, now); err != nil {
			return err
		}
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE disputes SET status = ?, resolved_at = ?, credit_note_id = nullif(?, '') WHERE id = ?`,
		outcome, fmtTime(now), creditNote, v.ID); err != nil {
		return err
	}
	if err := s.setOffCredit(ctx, inv.account, now); err != nil {
		return err
	}
	return s.markOverdue(ctx, now)
}

// issueCreditNote issues the credit note of an accepted dispute: one credit line of the disputed
// amount with the invoice's VAT. It settles the invoice; what the invoice no longer owed is the
// customer's credit.
func (s *Store) issueCreditNote(ctx context.Context, inv invoiceRow, d billing.DisputeView, now time.Time) (string, error) {
	today := clock.DateOf(now)
	seq, err := s.nextNumber(ctx, "credit_note", today.Year)
	if err != nil {
		return "", err
	}
	// The disputes of the invoice opened before this one, not rejected, come first (SplitDispute).
	var before int64
	if err := s.write.QueryRowContext(ctx, `SELECT coalesce(sum(amount_micros), 0) FROM disputes WHERE invoice_id = ?
		AND status != 'rejected' AND rowid < (SELECT rowid FROM disputes WHERE id = ?)`, inv.id, d.ID).Scan(&before); err != nil {
		return "", err
	}
	cn, err := invoices.DisputeCreditNote(invoices.CreditNoteNumber(today.Year, seq), inv.doc, d.ID, d.Reason,
		money.Micros(before).Decimal(), money.RoundInvoice(d.Amount.Decimal()), today)
	if err != nil {
		return "", err
	}
	total := money.MustMicros(cn.Total)
	toInvoice := min(total, money.Micros(inv.total-inv.settled))
	tx, err := invoices.CreditNoteTransaction(cn, toInvoice, now)
	if err != nil {
		return "", err
	}
	txID, err := s.postTransaction(ctx, tx, "dispute")
	if err != nil {
		return "", err
	}
	doc, err := json.Marshal(cn)
	if err != nil {
		return "", err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO credit_notes(id, year, seq, account_id, invoice_id, issue_date, total_micros,
		document, transaction_id, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, cn.Number, today.Year, seq, inv.account, inv.id,
		today.String(), int64(total), doc, txID, fmtTime(now)); err != nil {
		return "", fmt.Errorf("record credit note: %w", err)
	}
	if toInvoice > 0 {
		if err := s.settle(ctx, inv.id, "credit_note", cn.Number, toInvoice, today, txID, now); err != nil {
			return "", err
		}
	}
	if err := s.evaluateCredit(ctx, &tx, now); err != nil {
		return "", err
	}
	return cn.Number, s.setOffCredit(ctx, inv.account, now)
}

// CreditNote reads one issued credit note.
func (s *Store) CreditNote(ctx context.Context, id string) (invoices.CreditNote, error) {
	notes, err := s.queryCreditNotes(ctx, `SELECT document FROM credit_notes WHERE id = ?`, id)
	if err != nil {
		return invoices.CreditNote{}, err
	}
	if len(notes) == 0 {
		return invoices.CreditNote{}, ledger.Errorf(ledger.CodeNotFound, "credit note %q does not exist", id)
	}
	return notes[0], nil
}

// checkCursor refuses an ?after= that names no row of table.
func (s *Store) checkCursor(ctx context.Context, table, after string) error {
	if after == "" {
		return nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE id = ?`, after).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ledger.Errorf(ledger.CodeInvalid, "after %q is not a cursor from a previous page's next", after)
	}
	return nil
}

// CreditNotesIssuedIn lists the credit notes issued in a period's month, in order.
func (s *Store) CreditNotesIssuedIn(ctx context.Context, period invoices.Period) ([]invoices.CreditNote, error) {
	return s.queryCreditNotes(ctx, `SELECT document FROM credit_notes WHERE issue_date >= ? AND issue_date < ? ORDER BY year, seq`,
		period.Start().In(clock.Amsterdam).Format("2006-01-02"), period.End().In(clock.Amsterdam).Format("2006-01-02"))
}

// CreditNotes lists credit notes in the order they were issued, after the one named by after.
func (s *Store) CreditNotes(ctx context.Context, account, after string, limit int) ([]invoices.CreditNote, error) {
	if err := s.checkCursor(ctx, "credit_notes", after); err != nil {
		return nil, err
	}
	return s.queryCreditNotes(ctx, `SELECT document FROM credit_notes
		WHERE rowid > coalesce((SELECT rowid FROM credit_notes WHERE id = ?), 0) AND (? = '' OR account_id = ?)
		ORDER BY rowid LIMIT ?`, after, account, account, limit)
}

// queryCreditNotes reads the documents a query selects.
func (s *Store) queryCreditNotes(ctx context.Context, query string, args ...any) ([]invoices.CreditNote, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read credit notes: %w", err)
	}
	defer rows.Close()
	var out []invoices.CreditNote
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var v invoices.CreditNote
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("credit note document: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// WithTermination runs fn in one write transaction (billing.AccountStore).
func (s *Store) WithTermination(ctx context.Context, fn func(tx billing.TerminationTx) error) error {
	return s.inWrite(ctx, func() error { return fn(writeTx{s, ctx}) })
}

func (t writeTx) StagedPrepaid(account string) *ledger.PrepaidCredit { return t.s.stage(account) }

// ClosePrepaid closes a prepaid account for reason at at, and marks it terminated.
func (t writeTx) ClosePrepaid(p *ledger.PrepaidCredit, reason string, at time.Time) error {
	if err := t.s.closePrepaid(t.ctx, p, reason, at); err != nil {
		return err
	}
	_, err := t.s.write.ExecContext(t.ctx, `UPDATE accounts SET terminated_at = ? WHERE id = ?`, fmtTime(at), p.Account)
	return err
}

func (t writeTx) Terminated(account string) (bool, error) {
	var terminated stdsql.NullString
	err := t.s.write.QueryRowContext(t.ctx, `SELECT terminated_at FROM accounts WHERE id = ?`, account).Scan(&terminated)
	return terminated.Valid, err
}

func (t writeTx) DueAtOnce(account string, day clock.LocalDate) error {
	_, err := t.s.write.ExecContext(t.ctx, `UPDATE invoices SET due_now = ? WHERE account_id = ? AND settled_micros < total_micros
		AND due_date > ?`, day.String(), account, day.String())
	return err
}

// CloseTerminated closes a terminated postpaid account, announces it, and marks what is now
// overdue.
func (t writeTx) CloseTerminated(account string, at, now time.Time) error {
	s, ctx := t.s, t.ctx
	if _, err := s.write.ExecContext(ctx, `UPDATE accounts SET status = 'closed', closed_at = ?, closed_reason = ?,
		terminated_at = ? WHERE id = ?`, fmtTime(at), ledger.ClosedTerminated, fmtTime(at), account); err != nil {
		return err
	}
	if s.credit != nil {
		s.onCommit(func() { s.credit.MarkClosed(account, at) })
	}
	if err := s.appendOutbox(ctx, ledger.NewNotice(ledger.SubjectAccountClosed, account, at, map[string]any{"reason": ledger.ClosedTerminated}), fmtTime(now)); err != nil {
		return err
	}
	return s.markOverdue(ctx, now)
}
