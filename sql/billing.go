package sql

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
)

// UseInvoicing turns on the clock-driven side of invoicing: billing runs at the start of each
// month and invoices becoming overdue (RunDue). Without it RunDue does prepaid credit only.
func (s *Store) UseInvoicing(cfg billing.Invoicing) {
	s.writeMu.Lock()
	s.invoicing = &cfg
	s.writeMu.Unlock()
}

// effectiveDue is an invoice's due date: as issued, or earlier when termination made it due at
// once (R13, T&C 10.7).
const effectiveDue = `(CASE WHEN due_now IS NOT NULL AND due_now < due_date THEN due_now ELSE due_date END)`

// invoiceStatus derives an invoice's status (CONTRACT 3.3) from its amounts.
const invoiceStatus = `(CASE
	WHEN settled_micros >= total_micros AND credited_micros > 0 AND credited_micros >= total_micros THEN 'credited'
	WHEN settled_micros >= total_micros THEN 'paid'
	WHEN disputed_micros > 0 THEN 'disputed'
	WHEN overdue_since IS NOT NULL THEN 'overdue'
	ELSE 'open' END)`

// MarkOverdue marks, in one transaction, what is overdue at at (R6).
func (s *Store) MarkOverdue(ctx context.Context, at time.Time) error {
	return s.inWrite(ctx, func() error { return s.markOverdue(ctx, at) })
}

// NextReceivablesDue returns the next billing run or overdue invoice, whichever comes first.
func (s *Store) NextReceivablesDue(ctx context.Context) (time.Time, billing.DueKind, bool, error) {
	s.writeMu.Lock()
	on := s.invoicing != nil
	s.writeMu.Unlock()
	if !on {
		return time.Time{}, 0, false, nil
	}
	var at time.Time
	var what billing.DueKind
	period, ok, err := s.NextPeriod(ctx)
	if err != nil {
		return time.Time{}, 0, false, err
	}
	if ok {
		at, what = period.End(), billing.DueBillingRun
	}
	var due stdsql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT min(`+effectiveDue+`) FROM invoices
		WHERE overdue_since IS NULL AND total_micros - settled_micros - disputed_micros > 0`).Scan(&due); err != nil {
		return time.Time{}, 0, false, fmt.Errorf("next overdue invoice: %w", err)
	}
	if due.Valid {
		d, err := clock.ParseDate(due.String)
		if err != nil {
			return time.Time{}, 0, false, err
		}
		if t := invoices.OverdueSince(d).Start(); what == 0 || t.Before(at) {
			at, what = t, billing.DueOverdue
		}
	}
	return at, what, what != 0, nil
}

// NextPeriod is the first period not yet run: the one after the last run, or the period of the
// first postpaid account's registration.
func (s *Store) NextPeriod(ctx context.Context) (invoices.Period, bool, error) {
	var last, first stdsql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT max(period) FROM billing_runs),
		(SELECT min(registered_at) FROM accounts WHERE type = 'postpaid')`).Scan(&last, &first); err != nil {
		return invoices.Period{}, false, fmt.Errorf("next billing period: %w", err)
	}
	switch {
	case last.Valid:
		p, err := invoices.ParsePeriod(last.String)
		return p.Next(), err == nil, err
	case first.Valid:
		t, err := parseTime(first.String)
		return invoices.PeriodOf(t), err == nil, err
	}
	return invoices.Period{}, false, nil
}

// BillingRunOf reads the run of a period, if it ran.
func (s *Store) BillingRunOf(ctx context.Context, period invoices.Period) (billing.BillingRun, bool, error) {
	var ranAt, by string
	err := s.db.QueryRowContext(ctx, `SELECT ran_at, run_by FROM billing_runs WHERE period = ?`, period.String()).Scan(&ranAt, &by)
	if errors.Is(err, stdsql.ErrNoRows) {
		return billing.BillingRun{}, false, nil
	}
	if err != nil {
		return billing.BillingRun{}, false, err
	}
	run := billing.BillingRun{Period: period, By: by}
	if run.RanAt, err = parseTime(ranAt); err != nil {
		return billing.BillingRun{}, false, err
	}
	err = s.db.SelectContext(ctx, &run.Invoices, `SELECT id FROM invoices WHERE period = ? AND issued_by_run = 1 ORDER BY year, seq`, period.String())
	return run, true, err
}

// customer is what an invoice needs of an account.
type customer struct {
	party     invoices.Party
	termsDays int
	vat       invoices.VAT
	// indexation is off when the account opted out (T&C 3.4); invoicedSince is the start of the
	// period its last invoice was for, or its registration before its first (indexationNotes).
	indexation    bool
	invoicedSince time.Time
}

func (s *Store) customers(ctx context.Context, where string, args ...any) (map[string]customer, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT id, name, country, vat_id, email, street, city, postal_code, peppol_id,
		payment_terms_days, indexation,
		registered_at, coalesce(last.period, '') FROM accounts
		LEFT JOIN (SELECT account_id, max(period) AS period FROM invoices GROUP BY account_id) last ON last.account_id = id
		WHERE type = 'postpaid' `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read customers: %w", err)
	}
	defer rows.Close()
	out := map[string]customer{}
	for rows.Next() {
		var c customer
		var registered, lastPeriod string
		if err := rows.Scan(&c.party.ID, &c.party.Name, &c.party.Country, &c.party.VATID, &c.party.Email,
			&c.party.Street, &c.party.City, &c.party.PostalCode, &c.party.PeppolID, &c.termsDays,
			&c.indexation, &registered, &lastPeriod); err != nil {
			return nil, err
		}
		if c.invoicedSince, err = parseTime(registered); err != nil {
			return nil, fmt.Errorf("account %s: %w", c.party.ID, err)
		}
		if lastPeriod != "" {
			p, err := invoices.ParsePeriod(lastPeriod)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", c.party.ID, err)
			}
			c.invoicedSince = p.Start()
		}
		if c.vat, err = invoices.VATFor(c.party.Country, c.party.VATID); err != nil {
			return nil, fmt.Errorf("account %s: %w", c.party.ID, err)
		}
		out[c.party.ID] = c
	}
	return out, rows.Err()
}

// openLine is an open line as a billing run takes it.
type openLine struct {
	key   lineKey
	total lineTotal
}

// openUsage collects the open lines of periods up to through, per account (all accounts when
// account is "").
func (s *Store) openUsage(account string, through invoices.Period) map[string][]openLine {
	limit := periodKey(through)
	out := map[string][]openLine{}
	s.lines.lock()
	defer s.lines.openMu.Unlock()
	number, known := s.lines.accounts.lookup(account)
	if account != "" && !known {
		return out // nothing charged to it
	}
	names := s.lines.accounts.all() // every key's account is numbered before the key is made
	for k, t := range s.lines.open {
		if k.period <= limit && (account == "" || k.account == number) {
			name := names[k.account]
			out[name] = append(out[name], openLine{k, t})
		}
	}
	return out
}

func (s *Store) usageTotals(lines []openLine) ([]invoices.UsageTotal, money.Micros) {
	totals := make([]invoices.UsageTotal, 0, len(lines))
	var sum money.Micros
	for _, l := range lines {
		k, t := l.key, l.total
		if t.micros == 0 && t.quantity == 0 {
			continue // a 0-second call: nothing to show
		}
		sp := s.lines.spec(k.line)
		totals = append(totals, invoices.UsageTotal{Period: periodOfKey(k.period), Kind: sp.Kind, Channel: sp.Channel,
			Product: sp.Product, Direction: sp.Direction, Country: sp.Country, Description: sp.Description, Unit: sp.Unit,
			UnitPrice: sp.UnitPrice, Quantity: t.quantity, Micros: money.Micros(t.micros)})
		sum += money.Micros(t.micros)
	}
	return totals, sum
}

// WithBillingRun runs fn in one write transaction with the write pipeline on
// (billing.BillingRunStore): the invoices' writes are queued and sent together (pipeline.go);
// nothing in a run reads them back but set-off, whose reads send what is queued first.
func (s *Store) WithBillingRun(ctx context.Context, fn func(tx billing.BillingRunTx) error) error {
	return s.inWrite(ctx, func() error {
		s.startPipeline()
		defer s.stopPipeline()
		return fn(writeTx{s, ctx})
	})
}

func (t writeTx) PeriodRan(period invoices.Period) (bool, error) {
	return t.exists(`SELECT count(*) FROM billing_runs WHERE period = ?`, period.String())
}

// invoiceable is the store's side of a billing.Invoiceable: the open lines the invoice takes
// and the late charges with what they change on the invoices they concern.
type invoiceable struct {
	usage []openLine
	late  invoices.LateCharges
}

// Invoiceable lists every postpaid account, in account order, with what it has open for
// period and before: the usage lines (late events included) and the interest and collection
// costs through lastDay.
func (t writeTx) Invoiceable(period invoices.Period, lastDay clock.LocalDate) ([]billing.Invoiceable, error) {
	return t.invoiceables("", period, lastDay)
}

// InvoiceableOf is what one postpaid account has open, as Invoiceable lists it.
func (t writeTx) InvoiceableOf(account string, period invoices.Period, lastDay clock.LocalDate) (billing.Invoiceable, error) {
	list, err := t.invoiceables(account, period, lastDay)
	if err != nil {
		return billing.Invoiceable{}, err
	}
	if len(list) == 0 {
		return billing.Invoiceable{}, ledger.Errorf(ledger.CodeNotFound, "postpaid account %q does not exist", account)
	}
	return list[0], nil
}

// invoiceables lists the postpaid accounts (one, or all when account is "") with what they have
// open; the open lines are written first, so that the list and the table agree.
func (t writeTx) invoiceables(account string, period invoices.Period, lastDay clock.LocalDate) ([]billing.Invoiceable, error) {
	s, ctx := t.s, t.ctx
	if err := s.ensureLines(ctx); err != nil {
		return nil, err
	}
	if err := s.flushLines(ctx); err != nil {
		return nil, err
	}
	where, args := "", []any{}
	if account != "" {
		where, args = "AND id = ?", []any{account}
	}
	customers, err := s.customers(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	late, err := s.lateCharges(ctx, account, lastDay)
	if err != nil {
		return nil, err
	}
	usage := s.openUsage(account, period)
	out := make([]billing.Invoiceable, 0, len(customers))
	for id, c := range customers {
		var charged money.Micros
		for _, l := range usage[id] {
			charged += money.Micros(l.total.micros)
		}
		out = append(out, billing.Invoiceable{Account: id, Customer: c.party, TermsDays: c.termsDays, VAT: c.vat,
			Notes: s.indexationNotes(c, period), Usage: charged, Late: late[id].Lines,
			Store: invoiceable{usage: usage[id], late: late[id]}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

// Issue issues an invoice of what Invoiceable listed (issue); byRun says a billing run issues it.
func (t writeTx) Issue(d invoices.Draft, what billing.Invoiceable, at time.Time, byRun bool) (string, error) {
	i, ok := what.Store.(invoiceable)
	if !ok {
		return "", fmt.Errorf("sql: invoiceable %s listed elsewhere (%T)", what.Account, what.Store)
	}
	return t.s.issue(t.ctx, d, i.usage, i.late, at, byRun)
}

// SaveRun sends what the run queued and records the run.
func (t writeTx) SaveRun(run billing.BillingRun) error {
	if err := t.s.endPipeline(t.ctx); err != nil {
		return err
	}
	_, err := t.s.write.ExecContext(t.ctx, `INSERT INTO billing_runs(period, ran_at, invoices, run_by) VALUES (?, ?, ?, ?)`,
		run.Period.String(), fmtTime(run.RanAt), len(run.Invoices), run.By)
	return err
}

// nextNumber takes the next number of a kind of document in a year, inside the transaction
// that issues it: numbers have no gaps (R5).
//
// The first number of a kind and year in a transaction is taken from the table (which locks
// its row until the transaction ends); while pipelined, the next ones are counted on from it
// and the row is set to the last one later, so issuing waits for no answer.
func (s *Store) nextNumber(ctx context.Context, kind string, year int) (int64, error) {
	key := numberKey{kind, year}
	if last, ok := s.numbers[key]; ok && s.pipelined() {
		s.numbers[key] = last + 1
		if s.numbersTaken == nil {
			s.numbersTaken = map[numberKey]bool{}
		}
		s.numbersTaken[key] = true // written by endPipeline
		return last + 1, nil
	}
	var seq int64
	if err := s.stmts["nextNumber"].QueryRowContext(ctx, kind, year).Scan(&seq); err != nil {
		return 0, err
	}
	if s.numbers == nil {
		s.numbers = map[numberKey]int64{}
	}
	s.numbers[key] = seq
	return seq, nil
}

// numberKey names a series of document numbers.
type numberKey struct {
	kind string
	year int
}

// issue issues one invoice: its number, the document, its posting, the usage it bills leaving
// the open lines, the late charges recorded on the invoices they concern, the notice, credit
// control, and the customer's credit set off against it (R8).
func (s *Store) issue(ctx context.Context, d invoices.Draft, usage []openLine, late invoices.LateCharges, at time.Time, byRun bool) (string, error) {
	var usageMicros money.Micros
	d.Usage, usageMicros = s.usageTotals(usage)
	seq, err := s.nextNumber(ctx, "invoice", d.IssueDate.Year)
	if err != nil {
		return "", fmt.Errorf("invoice number: %w", err)
	}
	inv, updates, err := d.IssueWithLate(invoices.Number(d.IssueDate.Year, seq), late)
	if err != nil {
		return "", err
	}
	tx, err := invoices.IssueTransaction(inv, usageMicros, at)
	if err != nil {
		return "", err
	}
	txID, err := s.postTransaction(ctx, tx, "billing")
	if err != nil {
		return "", err
	}
	doc, err := json.Marshal(inv)
	if err != nil {
		return "", err
	}
	var dueNow any
	if d.DueOnIssue {
		dueNow = inv.DueDate.String()
	}
	if err := s.later(ctx, "insertInvoice",
		inv.Number, d.IssueDate.Year, seq, d.Account, d.Period.String(), inv.IssueDate.String(), inv.DueDate.String(), dueNow,
		int64(money.MustMicros(inv.Total)), doc, txID, fmtTime(at), byRun); err != nil {
		return "", fmt.Errorf("record invoice: %w", err)
	}
	if len(usage) > 0 {
		s.touchLines()
		if err := s.later(ctx, "deleteInvoicedLines", d.Account, periodKey(d.Period)); err != nil {
			return "", fmt.Errorf("invoiced usage lines: %w", err)
		}
		// Nothing of the account can be charged while this transaction holds the writer, so the
		// lines it invoiced are exactly these; a flush skips their keys left among the dirty ones.
		s.onCommit(func() {
			s.lines.lock()
			for _, l := range usage {
				delete(s.lines.open, l.key)
			}
			s.lines.openMu.Unlock()
		})
	}
	for _, u := range updates {
		if err := s.laterSQL(ctx, `UPDATE invoices SET interest_micros = ?, interest_through = ?,
			costs_charged = CASE WHEN costs_charged <> 0 OR ? <> 0 THEN 1 ELSE 0 END,
			interest_seen = (SELECT coalesce(max(id), 0) FROM settlements WHERE invoice_id = invoices.id) WHERE id = ?`,
			int64(u.InterestCharged), u.Through.String(), u.Costs, u.Invoice); err != nil {
			return "", fmt.Errorf("late charges of %s: %w", u.Invoice, err)
		}
	}
	if err := s.appendOutbox(ctx, invoiceNotice(ledger.SubjectInvoiceIssued, inv.Account, inv.Number, money.MustMicros(inv.Total), money.MustMicros(inv.Total), inv.DueDate, at), fmtTime(at)); err != nil {
		return "", err
	}
	if err := s.evaluateCredit(ctx, &tx, at); err != nil {
		return "", err
	}
	if err := s.setOffCredit(ctx, d.Account, at); err != nil {
		return "", err
	}
	return inv.Number, nil
}

func invoiceNotice(subject, account, invoice string, total, outstanding money.Micros, due clock.LocalDate, at time.Time) ledger.Notice {
	return ledger.NewNotice(subject, account, at, map[string]any{"invoice_id": invoice, "due_date": due.String(),
		"total": money.FormatInvoice(total.Decimal()), "outstanding": money.FormatInvoice(outstanding.Decimal())})
}

// lateCharges reads, per account (or for one), the overdue invoices that may have interest or
// collection costs to charge through lastDay, and has invoices.Late compute them (R6, T&C 3.8).
func (s *Store) lateCharges(ctx context.Context, account string, lastDay clock.LocalDate) (map[string]invoices.LateCharges, error) {
	if s.invoicing == nil {
		return nil, nil
	}
	q := `SELECT id, account_id, total_micros, ` + effectiveDue + `, costs_charged, interest_micros, document
		FROM invoices WHERE overdue_since IS NOT NULL AND (costs_charged = 0 OR settled_micros < total_micros
		  OR interest_through IS NULL OR interest_seen < (SELECT coalesce(max(id), 0) FROM settlements st WHERE st.invoice_id = invoices.id))`
	args := []any{}
	if account != "" {
		q += ` AND account_id = ?`
		args = append(args, account)
	}
	rows, err := s.write.QueryContext(ctx, q+` ORDER BY account_id, `+effectiveDue+`, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("overdue invoices: %w", err)
	}
	var overdue []invoices.OverdueInvoice
	for rows.Next() {
		var o invoices.OverdueInvoice
		var due string
		var doc []byte
		if err := rows.Scan(&o.ID, &o.Account, &o.Total, &due, &o.CostsCharged, &o.InterestCharged, &doc); err != nil {
			rows.Close()
			return nil, err
		}
		if o.Due, err = clock.ParseDate(due); err != nil {
			rows.Close()
			return nil, fmt.Errorf("invoice %s: %w", o.ID, err)
		}
		var inv invoices.Invoice
		if err := json.Unmarshal(doc, &inv); err != nil {
			rows.Close()
			return nil, fmt.Errorf("invoice %s: %w", o.ID, err)
		}
		o.VAT = inv.VAT
		for _, l := range inv.Lines {
			if l.Kind == invoices.LineInterest {
				o.InterestLines += money.MustMicros(l.Amount)
			}
		}
		overdue = append(overdue, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range overdue {
		if err := s.readTimeline(ctx, &overdue[i]); err != nil {
			return nil, err
		}
	}
	return invoices.Late(s.invoicing.Rates, s.invoicing.CollectionCosts, overdue, lastDay)
}

// readTimeline reads what settled an invoice and its disputes, for interest.
func (s *Store) readTimeline(ctx context.Context, o *invoices.OverdueInvoice) error {
	rows, err := s.write.QueryContext(ctx, `SELECT on_date, amount_micros FROM settlements WHERE invoice_id = ?`, o.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var on string
		var st invoices.Settlement
		if err := rows.Scan(&on, &st.Amount); err != nil {
			rows.Close()
			return err
		}
		if st.On, err = clock.ParseDate(on); err != nil {
			rows.Close()
			return err
		}
		o.Settlements = append(o.Settlements, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.write.QueryContext(ctx, `SELECT amount_micros, status, resolved_at FROM disputes WHERE invoice_id = ?`, o.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var resolved instant
		var d invoices.DisputeSpan
		if err := rows.Scan(&d.Amount, &d.Status, &resolved); err != nil {
			return err
		}
		if !resolved.Time.IsZero() {
			d.ResolvedOn = clock.DateOf(resolved.Time)
		}
		o.Disputes = append(o.Disputes, d)
	}
	return rows.Err()
}

// markOverdue marks the invoices whose due date passed before at's day as overdue and
// announces each (billing.invoice.overdue, the day after the due date, R6): those with an
// amount outstanding that is not disputed.
func (s *Store) markOverdue(ctx context.Context, at time.Time) error {
	today := clock.DateOf(at).String()
	// The due date before today is invoices.IsOverdue in SQL, checked again below.
	rows, err := s.write.QueryContext(ctx, `SELECT id, account_id, total_micros, total_micros - settled_micros, `+effectiveDue+`
		FROM invoices WHERE overdue_since IS NULL AND total_micros - settled_micros - disputed_micros > 0
		AND `+effectiveDue+` < ? ORDER BY id`, today)
	if err != nil {
		return fmt.Errorf("overdue invoices: %w", err)
	}
	type overdue struct {
		id, account        string
		total, outstanding int64
		due                string
	}
	var list []overdue
	for rows.Next() {
		var o overdue
		if err := rows.Scan(&o.id, &o.account, &o.total, &o.outstanding, &o.due); err != nil {
			rows.Close()
			return err
		}
		list = append(list, o)
	}
	rows.Close()
	for _, o := range list {
		due, err := clock.ParseDate(o.due)
		if err != nil {
			return err
		}
		if !invoices.IsOverdue(due, clock.DateOf(at)) {
			return fmt.Errorf("invoice %s due %s listed as overdue on %s", o.id, due, clock.DateOf(at))
		}
		since := invoices.OverdueSince(due)
		if _, err := s.write.ExecContext(ctx, `UPDATE invoices SET overdue_since = ? WHERE id = ?`, since.String(), o.id); err != nil {
			return err
		}
		if err := s.appendOutbox(ctx, invoiceNotice(ledger.SubjectInvoiceOverdue, o.account, o.id, money.Micros(o.total),
			money.Micros(o.outstanding), due, since.Start()), fmtTime(at)); err != nil {
			return err
		}
	}
	return nil
}
