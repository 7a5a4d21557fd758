package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// The finance console (CONTRACT 3.11): server-rendered pages at /console/, for finance chasing
// invoices, credit control watching exposure and support looking up an account. It signs in
// with an API token (POST /console/login), keeps an HttpOnly SameSite=Strict session cookie,
// puts a CSRF token in every form, and shows and does what the token's role may — every action
// checks the role again and goes through the same use cases, and the same audit trail, as the
// API. Its pages ask nothing of any other host (Content-Security-Policy default-src 'self').

//go:embed console
var consoleFiles embed.FS

// SessionTTL is how long a console session lasts after sign-in.
const SessionTTL = 8 * time.Hour

const sessionCookie = "ledger_console"

// consoleSession is a signed-in browser.
type consoleSession struct {
	who     principal
	csrf    string
	expires time.Time
}

type console struct {
	s        *Server
	pages    map[string]*template.Template
	mu       sync.Mutex
	sessions map[string]*consoleSession
	charged  []chargedSample // events charged, as the overview last read them
	runs     map[string]*consoleRun
}

// consoleRun is a billing run started from the console: it runs on its own, and its page shows
// how far it has got, then what it did.
type consoleRun struct {
	Period, By, Started string
	Current             string // the period being invoiced now
	Issued, Total       int
	Done                bool
	Message, Error      string
	Results             []runResult
}

// runResult is one period a console run invoiced.
type runResult struct {
	Period   string
	Invoices int
	Net      string
	Total    string
}

// chargedSample is the count of charged events at an instant: two make an ingestion rate.
type chargedSample struct {
	at     time.Time
	events float64
}

// consolePages are the page templates, each drawn inside layout.html.
var consolePages = []string{"login", "overview", "accounts", "account", "invoices", "invoice", "rejected", "billing-runs", "prices"}

func (s *Server) registerConsole(mux *http.ServeMux) {
	c := &console{s: s, pages: map[string]*template.Template{}, sessions: map[string]*consoleSession{}, runs: map[string]*consoleRun{}}
	funcs := template.FuncMap{"when": consoleWhen, "bar": utilisationBar, "pct": pct, "join": strings.Join, "split": strings.Fields, "eur": eur, "unit": func(code string) string {
		if u, ok := pdfUnitNames[code]; ok {
			return u
		}
		return code
	},
		"roleAtLeast": func(who principal, role string) bool { return who.Role >= roleNamed(role) }}
	for _, p := range consolePages {
		c.pages[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "console/layout.html", "console/"+p+".html"))
	}
	mux.HandleFunc("GET /console/static/console.css", func(w http.ResponseWriter, r *http.Request) {
		b, _ := consoleFiles.ReadFile("console/console.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(b)
	})
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", c.action(RoleViewer, c.logout))
	mux.HandleFunc("GET /console/{$}", c.page(RoleViewer, c.overview))
	mux.HandleFunc("GET /console/accounts", c.page(RoleViewer, c.accounts))
	mux.HandleFunc("GET /console/accounts/{id}", c.page(RoleViewer, c.account))
	mux.HandleFunc("POST /console/accounts/{id}/credit-limit", c.action(RoleFinance, c.setLimit))
	mux.HandleFunc("GET /console/invoices", c.page(RoleViewer, c.invoiceList))
	mux.HandleFunc("GET /console/invoices/{id}", c.page(RoleViewer, c.invoice))
	mux.HandleFunc("GET /console/credit-notes/{id}", c.page(RoleViewer, c.creditNote))
	mux.HandleFunc("POST /console/invoices/{id}/payments", c.action(RoleFinance, c.payment))
	mux.HandleFunc("POST /console/invoices/{id}/disputes", c.action(RoleFinance, c.dispute))
	mux.HandleFunc("POST /console/disputes/resolve", c.action(RoleFinance, c.resolve))
	mux.HandleFunc("GET /console/billing-runs", c.page(RoleFinance, c.billingRuns))
	mux.HandleFunc("POST /console/billing-runs", c.action(RoleFinance, c.runBilling))
	mux.HandleFunc("GET /console/rejected", c.page(RoleFinance, c.rejected))
	mux.HandleFunc("POST /console/rejected/replay", c.action(RoleAdmin, c.replay))
	mux.HandleFunc("GET /console/prices", c.page(RoleViewer, c.prices))
}

func roleNamed(name string) Role {
	for r := RoleViewer; r <= RoleAdmin; r++ {
		if r.String() == name {
			return r
		}
	}
	return RoleAdmin + 1
}

// secure sets the headers of every console answer.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// session finds the request's session; without --api-tokens a loopback browser is the admin, as
// on the API, and gets a session at once.
func (c *console) session(w http.ResponseWriter, r *http.Request) (*consoleSession, bool) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.mu.Lock()
		sess, ok := c.sessions[ck.Value]
		if ok && time.Now().After(sess.expires) {
			delete(c.sessions, ck.Value)
			ok = false
		}
		c.mu.Unlock()
		if ok {
			return sess, true
		}
	}
	if c.s.Tokens == nil {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				return c.start(w, r, principal{Role: RoleAdmin, Name: "loopback"}), true
			}
		}
	}
	return nil, false
}

// start begins a session for who.
func (c *console) start(w http.ResponseWriter, r *http.Request, who principal) *consoleSession {
	id := randomHex(32)
	sess := &consoleSession{who: who, csrf: randomHex(32), expires: time.Now().Add(SessionTTL)}
	c.mu.Lock()
	for k, s := range c.sessions { // the expired go when someone signs in
		if time.Now().After(s.expires) {
			delete(c.sessions, k)
		}
	}
	c.sessions[id] = sess
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/console/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionTTL / time.Second)})
	return sess
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "login", nil, map[string]any{"Error": r.URL.Query().Get("err")})
}

// login signs in with an API token (form field token): the session has the token's role.
func (c *console) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "a sign-in from another site is refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Redirect(w, r, "/console/login?err="+url.QueryEscape("the form could not be read"), http.StatusSeeOther)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if c.s.Tokens == nil {
		if _, ok := c.session(w, r); ok {
			http.Redirect(w, r, "/console/", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/console/login?err="+url.QueryEscape("without --api-tokens the console answers only on loopback"), http.StatusSeeOther)
		return
	}
	t, ok := c.s.Tokens.find(token)
	if token == "" || !ok {
		_ = c.s.refuse(r, "console sign-in with an unknown token", nil)
		http.Redirect(w, r, "/console/login?err="+url.QueryEscape("unknown token"), http.StatusSeeOther)
		return
	}
	c.start(w, r, principal{Role: t.role, Name: t.name})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request, _ *consoleSession) (string, error) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.mu.Lock()
		delete(c.sessions, ck.Value)
		c.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console/", HttpOnly: true, MaxAge: -1, SameSite: http.SameSiteStrictMode})
	return "/console/login", nil
}

// pageFunc fills a page's data; it returns the template's name.
type pageFunc func(w http.ResponseWriter, r *http.Request, sess *consoleSession, data map[string]any) (string, error)

// page serves a page to a session whose role may see it; without a session, the login page.
func (c *console) page(need Role, fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := c.session(w, r)
		if !ok {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		data := map[string]any{"Who": sess.who, "CSRF": sess.csrf, "Msg": r.URL.Query().Get("msg"), "Err": r.URL.Query().Get("err")}
		if sess.who.Role < need {
			c.render(w, http.StatusForbidden, "overview", sess, map[string]any{"Who": sess.who, "Err": fmt.Sprintf("this page needs the %s role; you have %s", need, sess.who.Role)})
			return
		}
		name, err := fn(w, r, sess, data)
		if err != nil {
			status := consoleStatus(err)
			data["Err"] = err.Error()
			if name == "" {
				name = "overview"
			}
			c.render(w, status, name, sess, data)
			return
		}
		if name == "" { // the page wrote a download itself
			return
		}
		c.render(w, http.StatusOK, name, sess, data)
	}
}

// actionFunc does what a form asks; it returns where to go next.
type actionFunc func(w http.ResponseWriter, r *http.Request, sess *consoleSession) (string, error)

// action serves a form's POST: the session, its CSRF token and its role are checked, the
// change is recorded in the audit trail as the API's are (CONTRACT 3.10), and the browser is
// sent back with what happened.
func (c *console) action(need Role, fn actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		sess, ok := c.session(w, r)
		if !ok {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.csrf)) != 1 {
			http.Error(w, "the form's CSRF token is missing or wrong: reload the page and try again", http.StatusForbidden)
			return
		}
		back := r.PostForm.Get("back")
		if !strings.HasPrefix(back, "/console/") {
			back = "/console/"
		}
		rec := &billing.AuditRecord{At: time.Now().UTC(), Actor: sess.who.Name, Role: sess.who.Role.String(), Method: r.Method,
			Path: r.URL.Path, Status: http.StatusOK}
		if id := r.PathValue("id"); strings.HasPrefix(r.URL.Path, "/console/accounts/") {
			rec.Account = id
		}
		ctx := billing.WithAudit(r.Context(), rec)
		var next string
		var err error
		if sess.who.Role < need {
			err = ledger.Errorf(ledger.CodeForbidden, "this needs the %s role; you have %s", need, sess.who.Role)
		} else {
			next, err = fn(w, r.WithContext(ctx), sess)
		}
		if err != nil {
			rec.Status = consoleStatus(err)
		}
		if !rec.Written && r.URL.Path != "/console/logout" {
			if e := c.s.Billing.RecordAudit(r.Context(), rec); e != nil && c.s.Log != nil {
				c.s.Log.Error("record the audit entry", "path", rec.Path, "err", e)
			}
		}
		if err != nil {
			http.Redirect(w, r, withParam(back, "err", err.Error()), http.StatusSeeOther)
			return
		}
		if strings.HasPrefix(next, "/console/") {
			http.Redirect(w, r, next, http.StatusSeeOther)
		}
	}
}

// sameOrigin reports whether a form was sent from the console's own pages: a browser names the
// page's origin in Origin (and SameSite=Strict keeps the session cookie off other sites' forms
// anyway); a request without Origin is not a browser's cross-site form.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func withParam(path, key, value string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/console/"
	}
	q := u.Query()
	q.Del("msg")
	q.Del("err")
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// consoleStatus is the HTTP status an error answers with, as on the API (statusOf).
func consoleStatus(err error) int {
	var e *ledger.Error
	if errors.As(err, &e) {
		return statusOf(e.Code)
	}
	return http.StatusInternalServerError
}

func (c *console) render(w http.ResponseWriter, status int, name string, sess *consoleSession, data map[string]any) {
	secure(w)
	if data == nil {
		data = map[string]any{}
	}
	if sess != nil {
		data["Who"], data["CSRF"] = sess.who, sess.csrf
	}
	data["Page"] = name
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, data); err != nil {
		if c.s.Log != nil {
			c.s.Log.Error("console page", "page", name, "err", err)
		}
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// consoleWhen shows an instant or a date in Europe/Amsterdam.
func consoleWhen(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.In(clock.Amsterdam).Format("2006-01-02 15:04")
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return ts.In(clock.Amsterdam).Format("2006-01-02 15:04")
		}
		return t
	}
	return fmt.Sprint(v)
}

// pdfUnitNames name the UN/ECE units for people, as the PDF documents do.
var pdfUnitNames = map[string]string{invoices.UnitPiece: "pcs", invoices.UnitMinute: "min", invoices.UnitHour: "h", invoices.UnitKm: "km"}

// eur shows an amount in cents, as invoices do (the ledger keeps micro-euros).
func eur(amount string) string {
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return amount
	}
	return d.StringFixed(2)
}

func pct(ratio float64) string { return fmt.Sprintf("%.0f %%", 100*ratio) }

// utilisationBar draws exposure against limit as an inline SVG bar (no request elsewhere).
func utilisationBar(ratio float64) template.HTML {
	w := min(max(ratio, 0), 1) * 160
	colour := "#2e7d32"
	switch {
	case ratio >= 1:
		colour = "#c62828"
	case ratio >= 0.8:
		colour = "#ef6c00"
	}
	return template.HTML(fmt.Sprintf(`<svg class="bar" width="160" height="12" role="img" aria-label="%.0f %% of the limit"><rect width="160" height="12" fill="#e0e0e0"/><rect width="%.1f" height="12" fill="%s"/></svg>`, 100*ratio, w, colour))
}

// columnChart draws labelled columns as an inline SVG: the receivables by age, usage by day.
// With many columns only those with a value carry one.
func columnChart(labels []string, values []float64, unit string) template.HTML {
	const h, gap = 120.0, 4.0
	colW := min(36.0, max(10.0, 620/float64(len(values))-gap))
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	var b strings.Builder
	width := float64(len(values))*(colW+gap) + gap
	fmt.Fprintf(&b, `<svg class="chart" width="%.0f" height="%.0f" role="img" aria-label="%s">`, width, h+34, template.HTMLEscapeString(unit))
	for i, v := range values {
		bh := 0.0
		if top > 0 {
			bh = v / top * h
		}
		x := gap + float64(i)*(colW+gap)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.1f" fill="#1565c0"><title>%s: %s</title></rect>`,
			x, 14+h-bh, colW, bh, template.HTMLEscapeString(labels[i]), template.HTMLEscapeString(fmt.Sprintf("%.2f %s", v, unit)))
		if len(values) <= 12 || v > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle">%s</text>`, x+colW/2, 10+h-bh, template.HTMLEscapeString(shortAmount(v)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="9" text-anchor="middle">%s</text>`, x+colW/2, h+28, template.HTMLEscapeString(labels[i]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func shortAmount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// MaxConsoleScan bounds how many accounts and invoices the overview reads.
const MaxConsoleScan = 100_000

// standing is an account on the overview: its exposure against its limit.
type standing struct {
	ID, Name, Status   string
	Exposure, Limit    string
	Ratio              float64
	Overdue, Expiring  string
	OverdueDays        int
	ClosureDue, Reason string
}

func (c *console) overview(w http.ResponseWriter, r *http.Request, sess *consoleSession, data map[string]any) (string, error) {
	ctx := r.Context()
	now := c.s.Billing.Now()
	today := clock.DateOf(now)
	// Receivables by age: what overdue invoices leave outstanding, by days past their due date.
	buckets := []string{"0–30", "31–60", "61–90", "90+"}
	ages := make([]float64, len(buckets))
	overdue := map[string]*standing{}
	err := eachInvoice(ctx, c.s.Billing, billing.InvoiceFilter{Status: "overdue"}, func(v billing.InvoiceView) {
		due := v.DueDate
		if v.DueNow != "" {
			if d, err := clock.ParseDate(v.DueNow); err == nil {
				due = d
			}
		}
		days := today.DaysSince(due)
		i := min(max((days-1)/30, 0), 3)
		amount, _ := v.Outstanding.Decimal().Float64()
		ages[i] += amount
		s := overdue[v.Account]
		if s == nil {
			s = &standing{ID: v.Account, Name: v.Customer.Name, Overdue: "0.00"}
			overdue[v.Account] = s
		}
		s.Overdue = decimal.RequireFromString(s.Overdue).Add(v.Outstanding.Decimal()).StringFixed(2)
		s.OverdueDays = max(s.OverdueDays, days)
	})
	if err != nil {
		return "overview", err
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
			var soon money.Micros
			for _, l := range cr.Prepaid.Lots {
				if l.Remaining > 0 && l.ExpiresAt.After(now) && l.ExpiresAt.Before(now.Add(30*24*time.Hour)) {
					soon += l.Remaining
				}
			}
			if soon > 0 {
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
		var byReason []parked
		for _, reason := range ledger.Reasons {
			views, err := c.s.Billing.Parked.Rejected(ctx, string(reason), 0, 1000)
			if err != nil {
				return "overview", err
			}
			if n := len(views); n > 0 {
				count := fmt.Sprint(n)
				if n == 1000 {
					count = "1000+"
				}
				byReason = append(byReason, parked{string(reason), count})
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
	n, ok := c.chargedEvents()
	if !ok {
		return "", ""
	}
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

// chargedEvents reads ledger_usage_events_total{outcome="charged"} from the metrics.
func (c *console) chargedEvents() (float64, bool) {
	if c.s.Gatherer == nil {
		return 0, false
	}
	families, err := c.s.Gatherer.Gather()
	if err != nil {
		return 0, false
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "ledger_usage_events_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == "charged" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total, true
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

// consolePage reads ?after= for the console's lists.
func consoleAfter(r *http.Request) int64 {
	var after int64
	fmt.Sscan(r.URL.Query().Get("after"), &after)
	return max(after, 0)
}

// ConsolePageSize is how many rows a console list shows at a time.
const ConsolePageSize = 50

func (c *console) accounts(w http.ResponseWriter, r *http.Request, _ *consoleSession, data map[string]any) (string, error) {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	status := r.URL.Query().Get("status")
	after := consoleAfter(r)
	var rows []accountJSON
	next := int64(0)
	// Filtered here, page by page of the store, until a page of the console is full.
	for len(rows) < ConsolePageSize {
		views, err := c.s.Billing.Accounts.Accounts(r.Context(), after, MaxPageLimit)
		if err != nil {
			return "accounts", err
		}
		for _, v := range views {
			after = v.Seq
			if q != "" && !strings.Contains(strings.ToLower(v.ID+" "+v.Name), q) {
				continue
			}
			out, err := c.s.accountJSON(r.Context(), v)
			if err != nil {
				return "accounts", err
			}
			if status != "" && out.Status != status {
				continue
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
		e := entries[i]
		recent = append(recent, entryJSON{ID: e.ID, TransactionID: e.TransactionID, Kind: e.Kind, At: e.At.Format(time.RFC3339Nano),
			LedgerAccount: e.LedgerAccount, Amount: e.Amount.String(), Events: e.Events, Memo: e.Memo})
	}
	data["UsageChart"] = columnChart(labels, days, "EUR charged")
	for _, d := range days {
		if d > 0 {
			data["UsageCharged"] = true
		}
	}
	data["Entries"] = recent
	// Claims and the liability cap (R12, T&C 8.4).
	if l, err := c.s.Billing.Liability(ctx, v.ID); err == nil {
		data["Liability"] = liabilityJSON{Cap: amountEUR(l.Cap), Paid12m: amountEUR(l.Paid12m), GrantedTotal: amountEUR(l.Granted),
			Remaining: amountEUR(l.Remaining), Claims: l.Claims}
	} else {
		return "overview", err
	}
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
	amount, err := ledger.ParseAmount("amount", r.PostForm.Get("amount"))
	if err != nil {
		return "", err
	}
	id := r.PathValue("id")
	if _, err := c.s.Billing.SetCreditLimit(r.Context(), id, amount.Decimal(), sess.who.Name); err != nil {
		return "", err
	}
	return withParam("/console/accounts/"+url.PathEscape(id), "msg", "credit limit set to "+money.FormatInvoice(amount.Decimal())+" EUR"), nil
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
		write := func(out io.Writer) error { return invoices.WriteUBLInvoice(out, v.Invoice, c.s.Seller) }
		if format == "pdf" {
			write = func(out io.Writer) error { return invoices.WritePDFInvoice(out, v.Invoice, c.s.Seller, v.DueNow) }
		}
		return "", writeDocument(w, id, format, write)
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
	write := func(out io.Writer) error { return invoices.WriteUBLCreditNote(out, v, c.s.Seller) }
	if format == "pdf" {
		write = func(out io.Writer) error { return invoices.WritePDFCreditNote(out, v, c.s.Seller) }
	}
	return "", writeDocument(w, id, format, write)
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
			net, total := decimal.Zero, decimal.Zero
			for _, number := range br.Invoices {
				if v, err := c.s.Billing.Receivables.Invoice(context.Background(), number); err == nil {
					net, total = net.Add(v.Net), total.Add(v.Total)
				}
			}
			results = append(results, runResult{Period: br.Period.String(), Invoices: len(br.Invoices), Net: net.StringFixed(2), Total: total.StringFixed(2)})
		}
		if !mine.Written {
			mine.Status = http.StatusOK
			if err != nil {
				mine.Status = consoleStatus(err)
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
			run.Error = err.Error()
		case ranBefore:
			run.Message = "period " + period.String() + " was invoiced before (a period runs once): nothing issued now"
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
	views, err := c.s.Billing.Parked.Rejected(r.Context(), reason, consoleAfter(r), ConsolePageSize)
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
	start := min(int(consoleAfter(r)), len(rows))
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
