package service_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ledger/service"
)

// browser is a console user: a cookie jar, redirects not followed (the test reads them).
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, e *env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: "http://" + e.svc.HTTPAddr, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the CSRF token the page's forms carry.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body, _ := b.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s:\n%s", path, body)
	}
	return m[1]
}

// CONTRACT 3.11: the console signs in with an API token into an HttpOnly SameSite=Strict
// session; it shows and does what the token's role may, and the server checks the role and a
// CSRF token again on every action, which lands in the audit trail like the API's.
func TestConsole_roles_sessions_and_actions(t *testing.T) {
	const viewer, finance, admin = "viewer-token-0123456789", "finance-token-0123456789", "admin-token-0123456789"
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(viewer+" viewer vera\n"+finance+" finance fin\n"+admin+" admin ada\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	e.doAs(admin, "POST", "/v1/accounts", map[string]any{"id": "acme", "name": "Acme B.V.", "type": "postpaid", "country": "NL",
		"registered_at": "2026-01-01T00:00:00Z"}, nil)
	e.publish(nil, sms("c-1", "acme", "+31612345678", 100))
	e.settle()
	if status, raw := e.doAs(admin, "POST", "/v1/clock", map[string]any{"now": "2026-04-01T08:00:00Z"}, nil); status != 200 {
		t.Fatalf("clock: %d %s", status, raw)
	}
	var invs struct{ Items []invoiceDoc }
	e.doAs(viewer, "GET", "/v1/invoices?account=acme", nil, &invs)
	if len(invs.Items) != 1 {
		t.Fatalf("invoices %+v", invs.Items)
	}
	inv := invs.Items[0]

	// Without a session: to the login page; a wrong token is refused there.
	anon := newBrowser(t, e)
	if status, _, _ := anon.get("/console/"); status != http.StatusSeeOther {
		t.Errorf("the console without a session: %d, want a redirect to the login page", status)
	}
	if status, loc := anon.post("/console/login", url.Values{"token": {"wrong-token-0123456789"}}); status != http.StatusSeeOther || !strings.Contains(loc, "err=unknown") {
		t.Errorf("a wrong token: %d %s, want back to the login page saying so", status, loc)
	}

	// A viewer sees, and may not act: no payment form, and a forged POST is refused and audited.
	vb := newBrowser(t, e)
	resp, err := vb.c.PostForm(vb.base+"/console/login", url.Values{"token": {viewer}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	status, body, header := vb.get("/console/")
	if status != 200 || !strings.Contains(body, "vera · viewer") || !strings.Contains(body, "Exposure against the credit limit") {
		t.Fatalf("overview as viewer: %d\n%s", status, body)
	}
	if csp := header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q, want default-src 'self'", csp)
	}
	if strings.Contains(body, "Parked events</a>") || strings.Contains(body, "Billing runs</a>") {
		t.Errorf("a viewer is offered finance's pages:\n%s", body)
	}
	status, body, _ = vb.get("/console/invoices/" + inv.ID)
	if status != 200 || strings.Contains(body, "Record a payment") || !strings.Contains(body, inv.Total+" EUR") {
		t.Errorf("invoice as viewer: %d, want its figures and no payment form\n%s", status, body)
	}
	if status, _, _ := vb.get("/console/billing-runs"); status != http.StatusForbidden {
		t.Errorf("billing runs as viewer: %d, want 403", status)
	}
	token := vb.csrf("/console/invoices/" + inv.ID)
	status, loc := vb.post("/console/invoices/"+inv.ID+"/payments", url.Values{"csrf": {token}, "payment_id": {"p-forged"}, "amount": {"1.00"},
		"back": {"/console/invoices/" + inv.ID}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "err=") || !strings.Contains(loc, "finance") {
		t.Errorf("a viewer's payment: %d %s, want refused naming the role", status, loc)
	}

	// Finance: a POST without the CSRF token is refused; with it the payment is booked.
	fb := newBrowser(t, e)
	fb.post("/console/login", url.Values{"token": {finance}})
	if status, _ := fb.post("/console/invoices/"+inv.ID+"/payments", url.Values{"payment_id": {"p-1"}, "amount": {"5.00"}}); status != http.StatusForbidden {
		t.Errorf("a payment without the CSRF token: %d, want 403", status)
	}
	status, body, _ = fb.get("/console/invoices/" + inv.ID)
	if !strings.Contains(body, "Record a payment") {
		t.Fatalf("finance sees no payment form:\n%s", body)
	}
	token = csrfField.FindStringSubmatch(body)[1]
	status, loc = fb.post("/console/invoices/"+inv.ID+"/payments", url.Values{"csrf": {token}, "payment_id": {"p-1"}, "amount": {"5.00"},
		"received_at": {"2026-04-01"}, "back": {"/console/invoices/" + inv.ID}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "msg=payment") {
		t.Fatalf("finance's payment: %d %s", status, loc)
	}
	e.doAs(viewer, "GET", "/v1/invoices?account=acme", nil, &invs)
	if got := invs.Items[0].Outstanding; got != "4.08" {
		t.Errorf("outstanding after 5.00 paid: %s, want 4.08 (9.08 − 5.00)", got)
	}
	// A credit limit of 0 cancels the credit (T&C 3.6): the console takes it.
	status, loc = fb.post("/console/accounts/acme/credit-limit", url.Values{"csrf": {fb.csrf("/console/accounts/acme")}, "amount": {"0"},
		"back": {"/console/accounts/acme"}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "msg=credit+limit+set+to+0.00") {
		t.Errorf("a limit of 0 from the console: %d %s", status, loc)
	}
	// Documents through the session: the PDF of the invoice.
	if status, body, header := fb.get("/console/invoices/" + inv.ID + ".pdf"); status != 200 || header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") {
		t.Errorf("the PDF from the console: %d %s", status, header.Get("Content-Type"))
	}
	// Replay is the admin's.
	if status, body, _ := fb.get("/console/rejected"); status != 200 || strings.Contains(body, `action="/console/rejected/replay"`) {
		t.Errorf("parked events as finance: %d, want the list without the replay button", status)
	}

	// The audit trail holds the console's writes, refused and done, by name.
	var audit auditPage
	e.doAs(admin, "GET", "/v1/audit?account=", nil, &audit)
	var refused, booked bool
	for _, r := range audit.Items {
		refused = refused || r.Actor == "vera" && strings.HasSuffix(r.Path, "/payments") && r.Status == 403
		booked = booked || r.Actor == "fin" && strings.HasSuffix(r.Path, "/payments") && r.Status == 200
	}
	if !refused || !booked {
		t.Errorf("audit trail %+v: want vera's refused payment and fin's booked one", audit.Items)
	}

	// Signed out: the session is gone.
	fb.post("/console/logout", url.Values{"csrf": {fb.csrf("/console/")}})
	if status, _, _ := fb.get("/console/"); status != http.StatusSeeOther {
		t.Errorf("after signing out: %d, want the login page", status)
	}
}

// A form posted from another site is refused, sign-in included, whatever it carries.
func TestConsole_other_sites_refused(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/console/login", "/console/logout", "/console/billing-runs"} {
		req, _ := http.NewRequest("POST", "http://"+e.svc.HTTPAddr+path, strings.NewReader("token=x&csrf=y&period=2026-03"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s from another site: %d, want 403", path, resp.StatusCode)
		}
	}
}
