package service_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ledger/billing"
	"ledger/ledger"
	"ledger/service"
)

// chromium finds a Chromium to drive; without one the browser test says what to install and
// skips, unless CI is set (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: the console's browser test cannot run here (apt-get install -y chromium)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this fails")
	}
	t.Skip(msg)
	return ""
}

// screenshots is where the browser test leaves a picture of each page it saw (not committed):
// $LEDGER_TEST_SCREENSHOTS, or ledger-console-screenshots in the system's temporary directory.
func screenshots(t *testing.T) string {
	dir := os.Getenv("LEDGER_TEST_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ledger-console-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the console in %s", dir)
	return dir
}

// The console as people use it, in a real browser: finance signs in, finds the overdue account,
// records a payment, opens and resolves a dispute, downloads the PDF and runs a billing run; a
// viewer finds no button that changes anything, and a POST forged from its page is refused.
func TestConsole_in_a_browser(t *testing.T) {
	browser := chromium(t)
	shots := screenshots(t)
	const viewer, finance = "viewer-token-0123456789", "finance-token-0123456789"
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(viewer+" viewer vera\n"+finance+" finance fin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *service.Config) { c.APITokens = path })
	// Set up through the use cases (no admin token here): acme's March invoice is overdue on
	// 20 April; slow's, on 30 days, is not, and can still be disputed (T&C 3.11).
	ctx := context.Background()
	registered, terms := "2026-01-01T00:00:00Z", 30
	for _, a := range []ledger.NewAccount{
		{ID: "acme", Name: "Acme Bakeries B.V.", Type: "postpaid", Country: "NL", RegisteredAt: &registered},
		{ID: "slow", Name: "Slow Payer B.V.", Type: "postpaid", Country: "NL", RegisteredAt: &registered, PaymentTermsDays: &terms},
	} {
		if _, _, err := e.svc.Billing.CreateAccount(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(nil, sms("b-1", "acme", "+31612345678", 1000), sms("b-2", "slow", "+31612345678", 1000))
	e.settle()
	april20, _ := time.Parse(time.RFC3339, "2026-04-20T08:00:00Z")
	if err := e.svc.Billing.SetClock(ctx, april20); err != nil {
		t.Fatal(err)
	}
	invoiceOf := func(account, status string) string {
		list, err := e.svc.Billing.Receivables.Invoices(ctx, billing.InvoiceFilter{Account: account}, "", 10)
		if err != nil || len(list) != 1 || list[0].Status != status {
			t.Fatalf("%s's invoices %+v, %v; want March's, %s", account, list, err, status)
		}
		return list[0].Number
	}
	number, slowNumber := invoiceOf("acme", "overdue"), invoiceOf("slow", "open")

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000))...)
	defer cancelAlloc()
	base := "http://" + e.svc.HTTPAddr
	// open starts a tab; its first action starts the browser and must not have a timeout.
	open := func() (context.Context, context.CancelFunc) {
		tab, cancel := chromedp.NewContext(allocCtx)
		if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
		return tab, cancel
	}
	do := func(tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(tab context.Context, what, expression string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expression, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	shot := func(tab context.Context, name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// expect waits for the page the last action led to and its message saying want: the page
	// before it, message and all, stays until the browser has the next one.
	expect := func(tab context.Context, what, want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		last := ""
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(tab, 5*time.Second)
			v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('p.msg, p.err') || {textContent: ''}).textContent`))
			cancel()
			if err == nil {
				if last = v; strings.Contains(v, want) {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%s: the page says %q, want %q", what, last, want)
	}
	signIn := func(tab context.Context, token string) {
		t.Helper()
		do(tab, "sign in", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Submit(chromedp.ID("token")),
			chromedp.WaitVisible(`//h1[text()="Overview"]`))
	}
	form := func(heading, field string) string {
		return `//h2[text()="` + heading + `"]/following-sibling::form[1]//*[@name="` + field + `"]`
	}

	// Finance.
	ftab, cancelF := open()
	defer cancelF()
	signIn(ftab, finance)
	shot(ftab, "overview")
	do(ftab, "open the overdue account", chromedp.Click(`//h2[contains(., "overdue")]/following-sibling::table//a[text()="acme"]`),
		chromedp.WaitVisible(`//h2[text()="Standing"]`))
	shot(ftab, "account")
	do(ftab, "open its invoice", chromedp.Click(`//a[text()="`+number+`"]`), chromedp.WaitVisible(`//h2[text()="Record a payment"]`))
	shot(ftab, "invoice")
	do(ftab, "record a payment on it",
		chromedp.SendKeys(form("Record a payment", "payment_id"), "bank-0001"),
		chromedp.SendKeys(form("Record a payment", "amount"), "50.00"),
		chromedp.Click(`//button[text()="Book payment"]`))
	expect(ftab, "after the payment", "payment bank-0001 of 50.00 EUR booked")
	do(ftab, "open slow's invoice", chromedp.Navigate(base+"/console/invoices?account=slow"), chromedp.Click(`//a[text()="`+slowNumber+`"]`),
		chromedp.WaitVisible(`//h2[text()="Open a dispute"]`))
	do(ftab, "open a dispute",
		chromedp.SendKeys(form("Open a dispute", "dispute_id"), "d-1"),
		chromedp.SendKeys(form("Open a dispute", "amount"), "12.10"),
		chromedp.SendKeys(form("Open a dispute", "reason"), "the rate of 3 March is wrong"),
		chromedp.Click(`//button[text()="Open dispute"]`))
	expect(ftab, "after opening the dispute", "dispute d-1 opened")
	do(ftab, "resolve it", chromedp.SendKeys(form("Resolve a dispute", "dispute_id"), "d-1"), chromedp.Click(`//button[text()="Resolve"]`))
	expect(ftab, "after resolving", "dispute d-1 accepted: credit note CN-2026-000001")
	shot(ftab, "invoice-after")
	if got := eval(ftab, "download the credit note", `fetch(document.querySelector('a[href$="CN-2026-000001.pdf"]').href).then(r => r.headers.get('content-type'))`); got != "application/pdf" {
		t.Errorf("the credit note's PDF link answers %q", got)
	}
	if got := eval(ftab, "download the PDF", `fetch(document.querySelector('a[href$=".pdf"]').href).then(r => r.headers.get('content-type'))`); got != "application/pdf" {
		t.Errorf("the PDF link answers %q", got)
	}
	do(ftab, "open billing runs", chromedp.Navigate(base+"/console/billing-runs"), chromedp.WaitVisible(chromedp.CSS("input[name=period]")))
	shot(ftab, "billing-runs")
	do(ftab, "run March again", chromedp.SetValue(chromedp.CSS("input[name=period]"), "2026-03"), chromedp.Click(`//button[text()="Run billing"]`))
	expect(ftab, "March again", "invoiced before")
	shot(ftab, "billing-run-done")
	for _, p := range []string{"accounts", "invoices", "rejected", "prices"} {
		do(ftab, "open "+p, chromedp.Navigate(base+"/console/"+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(ftab, p)
	}

	// A viewer: nothing that changes anything, and a forged POST refused.
	vtab, cancelV := open()
	defer cancelV()
	signIn(vtab, viewer)
	for _, p := range []string{"/console/", "/console/accounts", "/console/accounts/acme", "/console/invoices", "/console/invoices/" + number, "/console/prices"} {
		do(vtab, "look at "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		actions := eval(vtab, "read the forms of "+p, `[...document.querySelectorAll('form[method=post]')].map(f => f.getAttribute('action')).join(' ')`)
		for _, action := range strings.Fields(actions) {
			if action != "/console/logout" {
				t.Errorf("a viewer is offered %s on %s", action, p)
			}
		}
	}
	do(vtab, "open the invoice", chromedp.Navigate(base+"/console/invoices/"+number), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot(vtab, "viewer-invoice")
	forged := eval(vtab, "forge a payment", `fetch('/console/invoices/`+number+`/payments', {method: 'POST',
		headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: 'csrf=' + document.querySelector('input[name=csrf]').value + '&payment_id=forged&amount=1.00&back=/console/invoices/`+number+`'}).then(r => r.url)`)
	if !strings.Contains(forged, "err=") {
		t.Errorf("a viewer's forged payment ended at %q, want refused", forged)
	}
	// What the browser did, in the ledger: acme paid 50.00 of 90.75; slow credited 12.10 of 90.75.
	for account, want := range map[string]string{number: "40.75", slowNumber: "78.65"} {
		v, err := e.svc.Billing.Receivables.Invoice(ctx, account)
		if err != nil || v.Outstanding.Decimal().StringFixed(2) != want {
			t.Errorf("%s outstanding %v, %v; want %s", account, v.Outstanding, err, want)
		}
	}
}
