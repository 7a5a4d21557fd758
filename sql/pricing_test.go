package sql_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"ledger/billing"
	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
	"ledger/pricing"
	"ledger/tariffs"
)

// newPricingFixture is an invoicing fixture on the example tariffs, whose example CPI change for
// 2026 (2 %, applied 1 January 2027) indexes 2027 prices from 2026 ones.
func newPricingFixture(t *testing.T) *fixture {
	t.Helper()
	example := tariffs.Example()
	read := func(name string) string {
		b, err := fs.ReadFile(example, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	prices, err := pricing.ParsePrices("prices.csv", strings.NewReader(read("prices.csv")))
	if err != nil {
		t.Fatal(err)
	}
	surcharges, err := pricing.ParseSurcharges("surcharges.csv", strings.NewReader(read("surcharges.csv")))
	if err != nil {
		t.Fatal(err)
	}
	cpi, err := pricing.ParseCPI("cpi.csv", strings.NewReader(read("cpi.csv")))
	if err != nil {
		t.Fatal(err)
	}
	interest, err := pricing.ParseInterest("interest.csv", strings.NewReader(read("interest.csv")))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pricing.New(prices, surcharges, cpi, interest)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "ledger.db"), tariffs: tr, invoicing: true}
	f.open()
	t.Cleanup(f.close)
	return f
}

// event charges one usage event given as the JSON fields after id and account.
func (f *fixture) event(account, fields, now string) ledger.Prepared {
	f.t.Helper()
	f.seq++
	body := fmt.Sprintf(`{"id":"ev-%d","account":%q,%s}`, f.seq, account, fields)
	p := ledger.Prepare(ledger.Delivery{Subject: "usage.x." + account, Data: []byte(body)}, f.book, f.tariffs)
	if _, err := f.store.ChargeBatch(f.ctx, []ledger.Prepared{p}, at(now)); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) agree(account, csv string, now string) (billing.AgreementView, bool, error) {
	test := clock.NewTest(at(now), true)
	uses := billing.New(billing.StoresOf(f.store), test, test, f.book, f.tariffs)
	return uses.PutAgreement(f.ctx, account,
		"channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n"+csv, "test")
}

func (f *fixture) unbilled(account string) string {
	f.t.Helper()
	b, err := f.store.Balance(f.ctx, ledger.CustomerUnbilled(account))
	if err != nil {
		f.t.Fatal(err)
	}
	return b.String()
}

// usageLines are an invoice's usage and professional-services lines as "description: quantity
// × unit price = amount".
func usageLines(v billing.InvoiceView) []string {
	var out []string
	for _, l := range v.Lines {
		if l.Kind == invoices.LineUsage || l.Kind == invoices.LineProfessionalServices || l.Kind == invoices.LineSurcharge {
			out = append(out, fmt.Sprintf("%s %s: %s × %s = %s", l.Kind, l.Description, l.Quantity, l.UnitPrice, l.Amount.StringFixed(2)))
		}
	}
	return out
}

func wantLines(t *testing.T, v billing.InvoiceView, want ...string) {
	t.Helper()
	got := usageLines(v)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("invoice %s lines:\n%s\nwant:\n%s", v.Number, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// T&C 2.7: agreed prices win over the list for that account, versioned by valid_from; each PUT
// is a version, the same list again changes nothing, a restart keeps them in force, and a list
// of the header alone ends the agreement.
func TestAgreement_T2_7_versions_precedence_and_restart(t *testing.T) {
	f := newPricingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	f.account("beta", "postpaid", "2026-03-01T00:00:00Z")
	v, created, err := f.agree("acme", "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\n", "2026-03-01T09:00:00Z")
	if err != nil || !created || v.Version != 1 || len(v.Rows) != 1 {
		t.Fatalf("first agreement: %+v created %v err %v, want version 1 of 1 row", v, created, err)
	}
	if v, created, err := f.agree("acme", "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\n", "2026-03-01T09:01:00Z"); err != nil || created || v.Version != 1 {
		t.Fatalf("same list again: %+v created %v err %v, want version 1 unchanged", v, created, err)
	}
	f.sms("acme", 1000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z") // 1000 × 0.05 = 50
	f.sms("beta", 1000, "2026-03-10T08:00:00Z", "2026-03-10T08:00:01Z") // 1000 × 0.075 list = 75
	if got := f.unbilled("acme"); got != "50.000000" {
		t.Errorf("acme unbilled %s, want 50.000000 at the agreed price", got)
	}
	if got := f.unbilled("beta"); got != "75.000000" {
		t.Errorf("beta unbilled %s, want 75.000000 at the list price", got)
	}
	if v, created, err := f.agree("acme", "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\nsms,,outbound,31,NL,0.04,,,2026-03-15,SMS NL agreed\n", "2026-03-12T09:00:00Z"); err != nil || !created || v.Version != 2 {
		t.Fatalf("second version: %+v created %v err %v", v, created, err)
	}
	f.sms("acme", 1000, "2026-03-14T08:00:00Z", "2026-03-14T08:00:01Z") // before 15 March: 0.05 → 50
	f.reopen()                                                          // the agreement is stored, not only in memory
	f.sms("acme", 1000, "2026-03-20T08:00:00Z", "2026-03-20T08:00:01Z") // from 15 March: 0.04 → 40
	if got := f.unbilled("acme"); got != "140.000000" {
		t.Errorf("acme unbilled %s, want 140.000000 (50 + 50 + 40)", got)
	}
	f.runDue("2026-04-01T00:00:00Z")
	wantLines(t, f.invoices("acme")[0],
		"usage SMS NL agreed: 1000 × 0.04 = 40.00",
		"usage SMS NL agreed: 2000 × 0.05 = 100.00")

	// The header alone ends it: acme pays the list again.
	if v, created, err := f.agree("acme", "", "2026-04-02T09:00:00Z"); err != nil || !created || v.Version != 3 || len(v.Rows) != 0 {
		t.Fatalf("ending the agreement: %+v created %v err %v", v, created, err)
	}
	f.sms("acme", 100, "2026-04-10T08:00:00Z", "2026-04-10T08:00:01Z")
	if got := f.unbilled("acme"); got != "7.500000" {
		t.Errorf("acme unbilled %s after the agreement ended, want 7.500000 (list)", got)
	}
}

// T&C 2.7: a wrong list is refused whole, every wrong line named, and nothing changes.
func TestAgreement_refusals(t *testing.T) {
	f := newPricingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	_, _, err := f.agree("acme", "sms,,outbound,31,NL,0.05,,,2026-01-01,ok\nsms,,outbound,32,BE,abc,,,2026-01-01,bad price\nsms,,outbound,33,FR,0.05,,,2026-13-01,bad date\n", "2026-03-01T09:00:00Z")
	var lerr *ledger.Error
	if !errors.As(err, &lerr) || lerr.Code != ledger.CodeInvalid || !strings.Contains(err.Error(), "prices.csv:3:6 (unit_price)") ||
		!strings.Contains(err.Error(), "prices.csv:4:9 (valid_from)") || !strings.Contains(err.Error(), "T&C 2.7") {
		t.Fatalf("wrong list: %v, want invalid naming lines 3 and 4 and T&C 2.7", err)
	}
	if _, err := f.store.Agreement(f.ctx, "acme"); !isCode(err, ledger.CodeNotFound) {
		t.Errorf("agreement after a refused list: %v, want not found (none stored)", err)
	}
	if _, _, err := f.agree("nobody", "sms,,outbound,31,NL,0.05,,,2026-01-01,ok\n", "2026-03-01T09:00:00Z"); !isCode(err, ledger.CodeNotFound) {
		t.Errorf("unknown account: %v, want not found", err)
	}
	f.account("pre", "prepaid", "2026-03-01T00:00:00Z")
	if err := terminate(f.ctx, f.store, "pre", at("2026-03-02T00:00:00Z"), "test", at("2026-03-02T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.agree("pre", "sms,,outbound,31,NL,0.05,,,2026-01-01,ok\n", "2026-03-03T09:00:00Z"); !isCode(err, ledger.CodeConflict) {
		t.Errorf("closed account: %v, want conflict", err)
	}
}

func isCode(err error, code ledger.Code) bool {
	var lerr *ledger.Error
	return errors.As(err, &lerr) && lerr.Code == code
}

// SST 9.1, R2: a booking across 17:00 is charged in two parts and invoiced on two lines of its
// own kind; a restart before the lines are flushed rebuilds both from the charges.
func TestProfessionalServices_SST9_1_lines_and_restart(t *testing.T) {
	f := newPricingFixture(t)
	f.account("acme", "postpaid", "2026-03-01T00:00:00Z")
	// Tuesday 10 March 16:00 Amsterdam (15:00 UTC), 150 minutes: 60 at 120/h, 90 at 180/h.
	f.event("acme", `"channel":"professional_services","quantity":150,"occurred_at":"2026-03-10T15:00:00Z"`, "2026-03-10T18:00:00Z")
	// Saturday 14 March 10:00, 30 minutes: overtime only.
	f.event("acme", `"channel":"professional_services","quantity":30,"occurred_at":"2026-03-14T09:00:00Z"`, "2026-03-14T10:00:00Z")
	// Wednesday 11 March 10:00, 45 minutes: working time only.
	f.event("acme", `"channel":"professional_services","quantity":45,"occurred_at":"2026-03-11T09:00:00Z"`, "2026-03-11T10:00:00Z")
	// 120 + 270 + 90 + 90 = 570
	if got := f.unbilled("acme"); got != "570.000000" {
		t.Errorf("unbilled %s, want 570.000000", got)
	}
	f.reopen() // the open lines were never flushed: rebuilt from the charges, overtime parts too
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.runDue("2026-04-01T00:00:00Z")
	inv := f.invoices("acme")[0]
	wantLines(t, inv,
		"professional_services Consultancy per hour: 1.75 × 120 = 210.00",
		"professional_services Consultancy per hour outside working time: 2 × 180 = 360.00")
	f.wantInvoice(inv, "570.00", "119.70", "689.70", "689.70", "open")
}

// R3: the first invoice after an indexation says so, with the rate and the CPI year; its prices
// are indexed; the invoices before and after it do not repeat it; an account that opted out
// has neither.
func TestIndexation_R3_prices_and_invoice_note(t *testing.T) {
	f := newPricingFixture(t)
	f.newAccount("acme", "postpaid", "2026-11-15T00:00:00Z", true)
	f.account("fixed", "postpaid", "2026-11-15T00:00:00Z") // "indexation": false
	for _, id := range []string{"acme", "fixed"} {
		f.sms(id, 1000, "2026-12-10T08:00:00Z", "2026-12-10T08:00:01Z")
		f.sms(id, 1000, "2027-01-10T08:00:00Z", "2027-01-10T08:00:01Z")
		f.sms(id, 1000, "2027-02-10T08:00:00Z", "2027-02-10T08:00:01Z")
	}
	f.runDue("2027-03-01T00:00:00Z")
	note := "Prices indexed on 2027-01-01 by 2 %, the change of the consumer price index (CPI) in 2026 (T&C 3.4)"
	acme := f.invoices("acme")
	if len(acme) != 3 {
		t.Fatalf("acme invoices %d, want 3", len(acme))
	}
	// December at 0.075; January and February at 0.075 × 1.02 = 0.0765.
	wantLines(t, acme[0], "usage SMS Netherlands: 1000 × 0.075 = 75.00")
	wantLines(t, acme[1], "usage SMS Netherlands: 1000 × 0.0765 = 76.50")
	wantLines(t, acme[2], "usage SMS Netherlands: 1000 × 0.0765 = 76.50")
	for i, inv := range acme {
		has := contains(inv.Notes, note)
		if has != (i == 1) {
			t.Errorf("acme invoice %d (%s) notes %q: the indexation note belongs on the January invoice only", i, inv.Period, inv.Notes)
		}
	}
	for _, inv := range f.invoices("fixed") {
		wantLines(t, inv, "usage SMS Netherlands: 1000 × 0.075 = 75.00")
		if contains(inv.Notes, note) {
			t.Errorf("fixed invoice %s has the indexation note; it opted out (T&C 3.4)", inv.Number)
		}
	}
	// 2028 needs the CPI change of 2027, which is missing: the event waits, parked.
	p := f.event("acme", `"channel":"sms","destination":"+31612345678","quantity":1,"occurred_at":"2028-01-01T00:00:00Z"`, "2028-01-01T00:00:01Z")
	if p.Reason != ledger.ReasonMissingCPI || !strings.Contains(p.Detail, "CPI change missing for 2027") {
		t.Errorf("2028 event: %s %q, want parked missing_cpi naming 2027", p.Reason, p.Detail)
	}
	if rejected, err := f.store.Rejected(f.ctx, string(ledger.ReasonMissingCPI), 0, 10); err != nil || len(rejected) != 1 {
		t.Errorf("parked missing_cpi: %d, %v; want 1", len(rejected), err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
