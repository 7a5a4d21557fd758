package api

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
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
	funcs := template.FuncMap{"when": consoleWhen, "bar": utilisationBar, "pct": pct, "join": strings.Join, "split": strings.Fields, "eur": eur,
		"unit": invoices.UnitName, "roleAtLeast": func(who principal, role string) bool { r, ok := roleNames[role]; return ok && who.Role >= r }}
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
		http.Error(w, "a sign-in from another site is refused (CONTRACT 3.11: the console signs in from its own login page)", http.StatusForbidden)
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
		http.Redirect(w, r, "/console/login?err="+url.QueryEscape("without --api-tokens the console answers only on loopback, as the API does (CONTRACT 3)"), http.StatusSeeOther)
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
			c.render(w, http.StatusForbidden, "overview", sess, map[string]any{"Who": sess.who, "Err": requireRole(need, sess.who.Role).Error()})
			return
		}
		name, err := fn(w, r, sess, data)
		if err != nil {
			status, _, message, _ := publicError(c.s.Log, err)
			data["Err"] = message
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
			http.Error(w, "the form's CSRF token is missing or wrong, or it was sent from another site (CONTRACT 3.11): reload the page and try again", http.StatusForbidden)
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
			err = requireRole(need, sess.who.Role)
		} else {
			next, err = fn(w, r.WithContext(ctx), sess)
		}
		var message string
		if err != nil {
			rec.Status, _, message, _ = publicError(c.s.Log, err)
		}
		if !rec.Written && r.URL.Path != "/console/logout" {
			if e := c.s.Billing.RecordAudit(r.Context(), rec); e != nil && c.s.Log != nil {
				c.s.Log.Error("record the audit entry", "path", rec.Path, "err", e)
			}
		}
		if err != nil {
			http.Redirect(w, r, withParam(back, "err", message), http.StatusSeeOther)
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
