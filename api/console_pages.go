package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// The console's pages and the actions of their forms (console.go has the sessions, the checks
// and the drawing).

// MaxConsoleScan bounds how many accounts and invoices the overview reads.
const MaxConsoleScan = 100_000

// standing is an account on the overview: its exposure against its limit.
type standing struct {
	ID, Name, Status  string
	Exposure, Limit   string
	Ratio             float64
	Overdue, Expiring string
	OverdueDays       int
}

func (c *console) overview(w http.ResponseWriter, r *http.Request, sess *consoleSession, data map[string]any) (string, error) {
	ctx := r.Context()
	now := c.s.Billing.Now()
	today := clock.DateOf(now)
	// Receivables by age: what overdue invoices leave outstanding beside what is disputed (R6,
	// R7), by days past the due date they became overdue from (the store's OverdueSince: the
	// earlier of the printed due date and a termination's due_now, T&C 10.7). A partly disputed
	// invoice is overdue for its undisputed rest.
	buckets := []string{"0–30", "31–60", "61–90", "90+"}
	ages := make([]float64, len(buckets))
	overdue := map[string]*standing{}
	owed := map[string]money.Micros{}
	for _, status := range []string{"overdue", "disputed"} {
		err := eachInvoice(ctx, c.s.Billing, billing.InvoiceFilter{Status: status}, func(v billing.InvoiceView) {
			since, err := clock.ParseDate(v.OverdueSince)
			if err != nil {
				return // not overdue
			}
			days := today.DaysSince(since) + 1
			amount := v.Outstanding - v.Disputed
			if amount <= 0 {
				return
			}
			f, _ := amount.Decimal().Float64()
			ages[min(max((days-1)/30, 0), 3)] += f
			s := overdue[v.Account]
			if s == nil {
				s = &standing{ID: v.Account, Name: v.Customer.Name}
				overdue[v.Account] = s
			}
			owed[v.Account] += amount
			s.OverdueDays = max(s.OverdueDays, days)
		})
		if err != nil {
			return "overview", err
		}
	}
	for id, s := range overdue {
		s.Overdue = money.FormatInvoice(owed[id].Decimal())
	}
	var overdueList []*standing
	for _, s := range overdue {
		overdueList = append(overdueList, s)
	}
	sort.Slice(overdueList, func(i, j int) bool { return overdueList[i].OverdueDays > overdueList[j].OverdueDays })
	data["AgeChart"] = columnChart(buckets, ages, "EUR overdue")
	data["Overdue"] = overdueList

	// Exposure against the limit, nearest theirs first; the suspended; prepaid credit expiring.
	var near, suspended, expiring []standing
	c.s.Billing.Charging.Accounts.Each(func(cr ledger.Credit) {
		switch {
		case cr.Type == ledger.Postpaid && cr.Status != ledger.Closed:
			ratio := 0.0
			if cr.Limit > 0 {
				ratio = float64(cr.Exposure) / float64(cr.Limit)
			} else if cr.Exposure > 0 {
				ratio = 1
			}
			s := standing{ID: cr.Account, Status: string(cr.Status), Exposure: money.FormatInvoice(cr.Exposure.Decimal()),
				Limit: money.FormatInvoice(cr.Limit.Decimal()), Ratio: ratio}
			near = append(near, s)
			if cr.Status == ledger.Suspended {
				suspended = append(suspended, s)
			}
		case cr.Type == ledger.Prepaid && cr.Prepaid != nil && !cr.Prepaid.Closed:
			if soon := cr.Prepaid.ExpiringBefore(now.Add(30 * 24 * time.Hour)); soon > 0 {
				expiring = append(expiring, standing{ID: cr.Account, Expiring: money.FormatInvoice(soon.Decimal())})
			}
		}
	})
	sort.Slice(near, func(i, j int) bool {
		return near[i].Ratio > near[j].Ratio || near[i].Ratio == near[j].Ratio && near[i].ID < near[j].ID
	})
	data["Near"] = near[:min(len(near), 10)]
	data["Suspended"] = suspended
	sort.Slice(expiring, func(i, j int) bool { return expiring[i].ID < expiring[j].ID })
	data["Expiring"] = expiring

	// Parked events by reason (the first thousand of each), and what has been charged.
	if sess.who.Role >= RoleFinance {
		type parked struct {
			Reason string
			Count  string
		}
		counts, err := c.s.Billing.Parked.ParkedCounts(ctx)
		if err != nil {
			return "overview", err
		}
		var byReason []parked
		for _, reason := range ledger.Reasons {
			if n := counts[string(reason)]; n > 0 {
				byReason = append(byReason, parked{string(reason), fmt.Sprint(n)})
			}
		}
		data["Parked"] = byReason
	}
	data["Charged"], data["Rate"] = c.ingestion()
	data["Now"] = now
	return "overview", nil
}

// ingestion reads the events charged so far from the metrics, and the rate since the oldest
// reading of the last two minutes (the overview keeps its readings; the first view has none).
func (c *console) ingestion() (charged, rate string) {
	if c.s.ChargedEvents == nil {
		return "", ""
	}
	n := c.s.ChargedEvents()
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.charged[:0]
	for _, s := range c.charged {
		if now.Sub(s.at) <= 2*time.Minute && s.events <= n {
			keep = append(keep, s)
		}
	}
	c.charged = append(keep, chargedSample{now, n})
	if first := c.charged[0]; now.Sub(first.at) >= 5*time.Second {
		rate = fmt.Sprintf("%.0f events/s over the last %.0f s", (n-first.events)/now.Sub(first.at).Seconds(), now.Sub(first.at).Seconds())
	}
	return fmt.Sprintf("%.0f", n), rate
}

// eachInvoice calls fn for every invoice the filter names, page by page, up to MaxConsoleScan.
func eachInvoice(ctx context.Context, b *billing.Service, f billing.InvoiceFilter, fn func(billing.InvoiceView)) error {
	after := ""
	for n := 0; n < MaxConsoleScan; {
		views, err := b.Receivables.Invoices(ctx, f, after, MaxPageLimit)
		if err != nil {
			return err
		}
		for _, v := range views {
			fn(v)
		}
		n += len(views)
		if len(views) < MaxPageLimit {
			return nil
		}
		after = views[len(views)-1].Number
	}
	return nil
}

// consoleAfter reads ?after= for the console's lists, as the API's lists read it (page).
func consoleAfter(r *http.Request) (int64, error) {
	after, _, err := page(r)
	return after, err
}

// ConsolePageSize is how many rows a console list shows at a time.
const ConsolePageSize = 50

func (c *console) accounts(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	status := r.URL.Query().Get("status")
	after, err := consoleAfter(r)
	if err != nil {
		return "accounts", err
	}
	var rows []accountJSON
	next := int64(0)
	// Filtered here, page by page of the store, until a page of the console is full or
	// MaxConsoleScan accounts were looked at; the standing comes from the credit book, so an
	// account is drawn (with its prepaid credit) only when it is shown.
	for scanned := 0; len(rows) < ConsolePageSize && scanned < MaxConsoleScan; {
		views, err := c.s.Billing.Accounts.Accounts(r.Context(), after, MaxPageLimit)
		if err != nil {
			return "accounts", err
		}
		scanned += len(views)
		for _, v := range views {
			after = v.Seq
			if q != "" && !strings.Contains(strings.ToLower(v.ID+" "+v.Name), q) {
				continue
			}
			if _, st := c.s.Billing.Standing(v); status != "" && string(st) != status {
				continue
			}
			out, err := c.s.accountJSON(r.Context(), v)
			if err != nil {
				return "accounts", err
			}
			rows = append(rows, out)
			if len(rows) == ConsolePageSize {
				next = v.Seq
				break
			}
		}
		if len(views) < MaxPageLimit {
			break
		}
		next = after // the scan stopped here: the next page goes on from it
	}
	data["Accounts"], data["Q"], data["Status"] = rows, q, status
	if next > 0 {
		data["Next"] = fmt.Sprintf("/console/accounts?q=%s&status=%s&after=%d", url.QueryEscape(q), url.QueryEscape(status), next)
	}
	return "accounts", nil
}

func (c *console) account(w http.ResponseWriter, r *http.Request, sess *consoleSession, data map[string]any) (string, error) {
	ctx := r.Context()
	v, err := c.s.Billing.Accounts.Account(ctx, r.PathValue("id"))
	if err != nil {
		return "overview", err
	}
	a, err := c.s.accountJSON(ctx, v)
	if err != nil {
		return "overview", err
	}
	data["Account"] = a
	exposure, _ := decimal.NewFromString(a.Exposure)
	limit, _ := decimal.NewFromString(a.CreditLimit)
	if limit.IsPositive() {
		ratio, _ := exposure.Div(limit).Float64()
		data["Ratio"] = ratio
	}
	list, err := c.s.Billing.Receivables.Invoices(ctx, billing.InvoiceFilter{Account: v.ID}, "", ConsolePageSize)
	if err != nil {
		return "overview", err
	}
	var invs []invoiceJSON
	for _, iv := range list {
		invs = append(invs, invoiceOf(iv))
	}
	data["Invoices"] = invs
	// Usage charged per day over the last 30 days, from the journal, drawn as columns.
	now := c.s.Billing.Now()
	from := clock.DateOf(now).AddDays(-29)
	entries, err := c.s.Billing.Accounts.Entries(ctx, v.ID, from.Start(), now.Add(time.Second), 0, MaxPageLimit)
	if err != nil {
		return "overview", err
	}
	days := make([]float64, 30)
	labels := make([]string, 30)
	for i := range labels {
		labels[i] = fmt.Sprint(from.AddDays(i).Day)
	}
	var recent []entryJSON
	for _, e := range entries {
		if e.Kind == ledger.KindUsage && e.Amount > 0 {
			if d := clock.DateOf(e.At).DaysSince(from); d >= 0 && d < 30 {
				f, _ := e.Amount.Decimal().Float64()
				days[d] += f
			}
		}
	}
	for i := len(entries) - 1; i >= 0 && len(recent) < 20; i-- {
		recent = append(recent, entryOf(entries[i]))
	}
	data["UsageChart"] = columnChart(labels, days, "EUR charged")
	for _, d := range days {
		if d > 0 {
			data["UsageCharged"] = true
		}
	}
	data["Entries"] = recent
	// Claims and the liability cap (R12, T&C 8.4).
	l, err := c.s.Billing.Liability(ctx, v.ID)
	if err != nil {
		return "overview", err
	}
	data["Liability"] = liabilityOf(l)
	claims, err := c.s.Billing.Claims.Claims(ctx, v.ID, "", ConsolePageSize)
	if err != nil {
		return "overview", err
	}
	var cl []claimJSON
	for _, c := range claims {
		cl = append(cl, claimOf(c))
	}
	data["Claims"] = cl
	if sess.who.Role >= RoleAdmin {
		records, err := c.s.Billing.Audit(ctx, 0, v.ID, ConsolePageSize)
		if err != nil {
			return "overview", err
		}
		data["Audit"] = records
	}
	return "account", nil
}

func (c *console) setLimit(_ http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error) {
	// A credit limit, not a payment: 0 cancels the credit (T&C 3.5, 3.6).
	amount, err := ledger.ParseLimit("amount", r.PostForm.Get("amount"))
	if err != nil {
		return "", err
	}
	id := r.PathValue("id")
	if _, err := c.s.Billing.SetCreditLimit(r.Context(), id, amount, sess.who.Name); err != nil {
		return "", err
	}
	return withParam("/console/accounts/"+url.PathEscape(id), "msg", "credit limit set to "+money.FormatInvoice(amount)+" EUR"), nil
}

func (c *console) invoiceList(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	q := r.URL.Query()
	f := billing.InvoiceFilter{Account: q.Get("account"), Period: q.Get("period"), Status: q.Get("status")}
	views, err := c.s.Billing.Receivables.Invoices(r.Context(), f, q.Get("after"), ConsolePageSize)
	if err != nil {
		return "invoices", err
	}
	var rows []invoiceJSON
	for _, v := range views {
		rows = append(rows, invoiceOf(v))
	}
	data["Invoices"], data["Filter"] = rows, f
	if len(views) == ConsolePageSize {
		data["Next"] = fmt.Sprintf("/console/invoices?account=%s&period=%s&status=%s&after=%s", url.QueryEscape(f.Account),
			url.QueryEscape(f.Period), url.QueryEscape(f.Status), url.QueryEscape(views[len(views)-1].Number))
	}
	return "invoices", nil
}

// invoice shows an invoice with its lines, or answers its UBL (.xml) or PDF (.pdf) download.
func (c *console) invoice(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	id, format := documentFormat(r.PathValue("id"))
	v, err := c.s.Billing.Receivables.Invoice(r.Context(), id)
	if err != nil {
		return "invoices", err
	}
	if format != "json" {
		return "", writeDocument(w, id, format, func(out io.Writer) error { return c.s.invoiceDocument(out, v, format) })
	}
	data["Invoice"] = invoiceOf(v)
	// The credit notes that correct it (R7).
	var notes []creditNoteJSON
	after := ""
	for {
		page, err := c.s.Billing.Receivables.CreditNotes(r.Context(), v.Account, after, MaxPageLimit)
		if err != nil {
			return "invoice", err
		}
		for _, cn := range page {
			if cn.InvoiceNumber == v.Number {
				notes = append(notes, creditNoteOf(cn))
			}
		}
		if len(page) < MaxPageLimit {
			break
		}
		after = page[len(page)-1].Number
	}
	data["CreditNotes"] = notes
	return "invoice", nil
}

// creditNote answers a credit note's UBL (.xml) or PDF (.pdf) download.
func (c *console) creditNote(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	id, format := documentFormat(r.PathValue("id"))
	if format == "json" {
		format = "pdf"
	}
	v, err := c.s.Billing.Receivables.CreditNote(r.Context(), id)
	if err != nil {
		return "invoices", err
	}
	return "", writeDocument(w, id, format, func(out io.Writer) error { return c.s.creditNoteDocument(out, v, format) })
}

func (c *console) payment(_ http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error) {
	id := r.PathValue("id")
	v, err := c.s.Billing.Receivables.Invoice(r.Context(), id)
	if err != nil {
		return "", err
	}
	p := billing.NewPayment{ID: strings.TrimSpace(r.PostForm.Get("payment_id")), Invoice: id, SEPA: r.PostForm.Get("non_sepa") == ""}
	if p.Amount, err = ledger.ParseAmount("amount", r.PostForm.Get("amount")); err != nil {
		return "", err
	}
	if at := r.PostForm.Get("received_at"); at != "" {
		d, err := clock.ParseDate(at)
		if err != nil {
			return "", ledger.Errorf(ledger.CodeInvalid, "received on %q: want a date YYYY-MM-DD", at)
		}
		p.ReceivedAt = d.Start() // 00:00 Amsterdam: received that day
	}
	billing.AuditAccount(r.Context(), v.Account)
	pv, _, err := c.s.Billing.AddPayment(r.Context(), v.Account, p, sess.who.Name)
	if err != nil {
		return "", err
	}
	return withParam("/console/invoices/"+url.PathEscape(id), "msg", fmt.Sprintf("payment %s of %s EUR booked", pv.ID, money.FormatInvoice(pv.Amount.Decimal()))), nil
}

func (c *console) dispute(_ http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error) {
	id := r.PathValue("id")
	amount, err := ledger.ParseAmount("amount", r.PostForm.Get("amount"))
	if err != nil {
		return "", err
	}
	d := billing.NewDispute{ID: strings.TrimSpace(r.PostForm.Get("dispute_id")), Amount: amount, Reason: r.PostForm.Get("reason")}
	v, _, err := c.s.Billing.OpenDispute(r.Context(), id, d)
	if err != nil {
		return "", err
	}
	return withParam("/console/invoices/"+url.PathEscape(id), "msg", "dispute "+v.ID+" opened"), nil
}

func (c *console) resolve(_ http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error) {
	v, err := c.s.Billing.ResolveDispute(r.Context(), strings.TrimSpace(r.PostForm.Get("dispute_id")), r.PostForm.Get("outcome"), sess.who.Name)
	if err != nil {
		return "", err
	}
	msg := "dispute " + v.ID + " " + v.Status
	if v.CreditNote != "" {
		msg += ": credit note " + v.CreditNote
	}
	return withParam("/console/invoices/"+url.PathEscape(v.Invoice), "msg", msg), nil
}

func (c *console) billingRuns(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	last := invoices.PeriodOf(c.s.Billing.Now()).Start().Add(-time.Hour)
	data["Suggested"] = invoices.PeriodOf(last).String()
	if id := r.URL.Query().Get("run"); id != "" {
		c.mu.Lock()
		run, ok := c.runs[id]
		var copied consoleRun
		if ok {
			copied = *run
			copied.Results = append([]runResult(nil), run.Results...)
		}
		c.mu.Unlock()
		if !ok {
			return "billing-runs", ledger.Errorf(ledger.CodeNotFound, "no billing run %q on this ledgerd (runs are kept until it restarts)", id)
		}
		data["Run"] = copied
		data["Refresh"] = !copied.Done
	}
	return "billing-runs", nil
}

// runBilling starts a billing run (R5) on its own and sends the browser to its page, which
// follows it until it is done. The run is audited as the API's are, when it has run.
func (c *console) runBilling(_ http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error) {
	period, err := invoices.ParsePeriod(r.PostForm.Get("period"))
	if err != nil {
		return "", err
	}
	if err := period.CheckEnded(c.s.Billing.Now()); err != nil {
		return "", err
	}
	id := randomHex(8)
	run := &consoleRun{Period: period.String(), By: sess.who.Name, Started: consoleWhen(time.Now())}
	c.mu.Lock()
	c.runs[id] = run
	c.mu.Unlock()
	// The request's record is this run's: the run writes it in its transaction, or records it
	// itself when it ends without writing (a period run before, an error).
	rec := billing.AuditOf(r.Context())
	mine := *rec
	rec.Written = true // not the request's to record now
	go func() {
		ctx := billing.WithAudit(context.Background(), &mine)
		ctx = billing.WithProgress(ctx, func(p invoices.Period, issued, total int) {
			c.mu.Lock()
			run.Current, run.Issued, run.Total = p.String(), issued, total
			c.mu.Unlock()
		})
		runs, ranBefore, err := c.s.Billing.RunBilling(ctx, period, sess.who.Name)
		var results []runResult
		for _, br := range runs {
			res := runResult{Period: br.Period.String(), Invoices: len(br.Invoices), Net: "—", Total: "—"}
			net, total := decimal.Zero, decimal.Zero
			var readErr error
			for _, number := range br.Invoices {
				v, err := c.s.Billing.Receivables.Invoice(context.Background(), number)
				if err != nil {
					readErr = err
					break
				}
				net, total = net.Add(v.Net), total.Add(v.Total)
			}
			if readErr == nil {
				res.Net, res.Total = net.StringFixed(2), total.StringFixed(2)
			} else if c.s.Log != nil { // the run is done; only its sums are not shown
				c.s.Log.Error("read the invoices a console billing run issued", "period", res.Period, "err", readErr)
			}
			results = append(results, res)
		}
		if !mine.Written {
			mine.Status = http.StatusOK
			if err != nil {
				mine.Status, _, _, _ = publicError(c.s.Log, err)
			}
			if e := c.s.Billing.RecordAudit(context.Background(), &mine); e != nil && c.s.Log != nil {
				c.s.Log.Error("record the audit entry", "path", mine.Path, "err", e)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		run.Done, run.Results = true, results
		switch {
		case err != nil:
			_, _, run.Error, _ = publicError(c.s.Log, err)
		case ranBefore:
			run.Message = "period " + period.String() + " was invoiced before (R5: a period runs once): nothing issued now"
		default:
			run.Message = fmt.Sprintf("done: %d periods invoiced", len(results))
		}
	}()
	return "/console/billing-runs?run=" + id, nil
}

func (c *console) rejected(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	reason := r.URL.Query().Get("reason")
	if err := validReason(reason); err != nil {
		return "rejected", err
	}
	after, err := consoleAfter(r)
	if err != nil {
		return "rejected", err
	}
	views, err := c.s.Billing.Parked.Rejected(r.Context(), reason, after, ConsolePageSize)
	if err != nil {
		return "rejected", err
	}
	data["Rejected"], data["Reason"], data["Reasons"] = views, reason, ledger.Reasons
	if len(views) == ConsolePageSize {
		data["Next"] = fmt.Sprintf("/console/rejected?reason=%s&after=%d", url.QueryEscape(reason), views[len(views)-1].ID)
	}
	return "rejected", nil
}

func (c *console) replay(_ http.ResponseWriter, r *http.Request, _ *consoleSession) (string, error) {
	reason := r.PostForm.Get("reason")
	if err := validReason(reason); err != nil {
		return "", err
	}
	res, err := c.s.Billing.Charging.Replay(r.Context(), reason)
	if err != nil {
		return "", err
	}
	return withParam("/console/rejected?reason="+url.QueryEscape(reason), "msg",
		fmt.Sprintf("replayed %d: %d charged, %d duplicates, %d still parked", res.Replayed, res.Charged, res.Duplicates, res.StillOpen)), nil
}

func (c *console) prices(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	t := c.s.Billing.Charging.Tariffs()
	if t == nil {
		return "prices", errors.New("no tariffs in use")
	}
	now := c.s.Billing.Now()
	rows, err := t.PricesInForce(now, pricing.Terms{})
	if err != nil {
		return "prices", err
	}
	after, err := consoleAfter(r)
	if err != nil {
		return "prices", err
	}
	start := min(int(after), len(rows))
	end := min(start+ConsolePageSize, len(rows))
	var items []priceJSON
	for _, p := range rows[start:end] {
		j := priceRowJSON(p.PriceRow)
		j.ListedPrice = p.ListedPrice.String()
		items = append(items, j)
	}
	data["Prices"], data["Now"] = items, now
	if end < len(rows) {
		data["Next"] = fmt.Sprintf("/console/prices?after=%d", end)
	}
	return "prices", nil
}
