package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/api"
)

// The quick start with our own tools: accounts opened, shown, listed and changed; usage sent
// over NATS to the server ledgerd names; an event for an unknown account parked, listed and
// charged by a replay once the account exists; a prepaid top-up booked and listed.
func TestLedgerctlAccountsUsageAndReplay(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	must := func(args ...string) result {
		t.Helper()
		r := ledgerctl(t, append(args, server)...)
		if r.code != 0 {
			t.Fatalf("ledgerctl %s: %s", strings.Join(args, " "), r)
		}
		return r
	}
	r := must("accounts", "create", "acme", "--name", "Acme B.V.", "--vat-id", "nl 123456789 b01", "--payment-terms-days", "30")
	for _, want := range []string{"Account acme (Acme B.V.)", "NL123456789B01", "30 days", "NL-R-004"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("accounts create: no %q in\n%s", want, r)
		}
	}
	if r := must("accounts", "create", "acme", "--name", "Acme B.V.", "--vat-id", "NL123456789B01", "--payment-terms-days", "30"); !strings.Contains(r.stdout, "existed already") {
		t.Errorf("the same account again: %s, want it said that nothing changed", r)
	}
	if r := ledgerctl(t, "accounts", "create", "acme", "--name", "Other", server); r.code != 1 || !strings.Contains(r.stderr, "409") && !strings.Contains(r.stderr, "conflict") {
		t.Errorf("acme on other terms: %s, want exit 1 with the conflict", r)
	}
	if r := ledgerctl(t, "accounts", "create", "nameless", server); r.code != exitUsage {
		t.Errorf("no --name: %s, want exit %d", r, exitUsage)
	}

	must("usage", "send", "--account", "acme", "--destination", "+31612345678", "--quantity", "2", "--id", "q-1", "--occurred-at", "2026-03-05T10:00:00Z")
	if r := must("usage", "send", "--account", "acme", "--destination", "+31612345678", "--quantity", "2", "--id", "q-1", "--occurred-at", "2026-03-05T10:00:00Z"); !strings.Contains(r.stdout, "published once") {
		t.Errorf("the same event again: %s, want the stream's de-duplication said", r)
	}
	l.waitUnbilled("", "acme", "0.150000")
	must("usage", "send", "--account", "nobody", "--destination", "+31612345678", "--id", "q-2")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := must("rejected", "list", "--reason", "unknown_account")
		if strings.Contains(r.stdout, "q-2") && strings.Contains(r.stdout, "1 event parked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("q-2 not parked: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	must("accounts", "create", "nobody", "--name", "Nobody B.V.")
	if r := must("rejected", "replay"); !strings.Contains(r.stdout, "replayed 1: 1 charged") {
		t.Errorf("replay: %s, want the one parked event charged", r)
	}
	l.waitUnbilled("", "nobody", "0.075000")

	if r := ledgerctl(t, "accounts", "update", "acme", "--street", "Dorpsstraat 1", server); r.code != exitUsage {
		t.Errorf("a third of an address: %s, want exit %d", r, exitUsage)
	}
	r = must("accounts", "update", "acme", "--street", "Dorpsstraat 1", "--city", "Utrecht", "--postal-code", "3511 AA")
	if !strings.Contains(r.stdout, "Dorpsstraat 1, 3511 AA Utrecht") || strings.Contains(r.stdout, "lack for PEPPOL") {
		t.Errorf("update: %s, want the address and nothing missing", r)
	}
	r = must("accounts", "list", "--json")
	var page struct{ Items []account }
	err := json.Unmarshal([]byte(r.stdout), &page)
	all := page.Items
	if err != nil || len(all) != 2 || all[0].ID != "acme" || all[1].Unbilled != "0.075000" {
		t.Errorf("accounts list --json: %v %s", err, r)
	}
	if r := must("accounts", "list"); !strings.Contains(r.stdout, "2 accounts") {
		t.Errorf("accounts list: %s", r)
	}

	must("accounts", "create", "pre", "--name", "Pre B.V.", "--type", "prepaid")
	if r := must("topups", "add", "pre", "--id", "t-1", "--amount", "50.00", "--method", "bank", "--received-at", "2026-03-09T10:00:00Z"); !strings.Contains(r.stdout, "2026-03-09T23:00:00Z") {
		t.Errorf("topups add: %s, want it usable from 00:00 Amsterdam the next day (T&C 3.13)", r)
	}
	if r := must("topups", "list", "pre"); !strings.Contains(r.stdout, "t-1") || !strings.Contains(r.stdout, "50.00") {
		t.Errorf("topups list: %s", r)
	}
	if r := must("accounts", "show", "pre"); !strings.Contains(r.stdout, "usable") || strings.Contains(r.stdout, "credit limit") {
		t.Errorf("a prepaid account shown: %s, want its balances, not a credit limit", r)
	}
}

// The rest of the routes from the command line: the credit limit, the test clock, a chargeback,
// a data subject and its erasure, a termination; and the shell completion, which bash reads.
func TestLedgerctlMoreCommands(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	must := func(args ...string) result {
		t.Helper()
		r := ledgerctl(t, append(args, server)...)
		if r.code != 0 {
			t.Fatalf("ledgerctl %s: %s", strings.Join(args, " "), r)
		}
		return r
	}
	must("accounts", "create", "acme", "--name", "Acme B.V.")
	if r := must("accounts", "set-limit", "acme", "--amount", "750.00"); !strings.Contains(r.stdout, "750.00 EUR") {
		t.Errorf("set-limit: %s", r)
	}
	if r := must("clock", "show"); !strings.Contains(r.stdout, testClockStart[:10]) {
		t.Errorf("clock show: %s", r)
	}
	if r := must("clock", "set", "2026-03-12T09:00:00Z"); !strings.Contains(r.stdout, "2026-03-12T09:00:00Z") {
		t.Errorf("clock set: %s", r)
	}
	must("accounts", "create", "pre", "--name", "Pre B.V.", "--type", "prepaid")
	must("topups", "add", "pre", "--id", "t-1", "--amount", "30.00", "--method", "card", "--received-at", "2026-03-10T09:00:00Z")
	if r := must("chargebacks", "add", "pre", "--id", "cb-1", "--topup", "t-1", "--amount", "30.00"); !hasLine(r.stdout, "set", "off", "30.000000") ||
		!strings.Contains(r.stdout, "the account is closed") {
		t.Errorf("chargebacks add: %s", r)
	}
	must("usage", "send", "--account", "acme", "--destination", "+31612345678", "--id", "ds-1", "--occurred-at", "2026-03-11T10:00:00Z")
	l.waitUnbilled("", "acme", "0.075000")
	if r := must("data-subjects", "show", "+31612345678"); !strings.Contains(r.stdout, "ds-1") || !strings.Contains(r.stdout, "1 record held") {
		t.Errorf("data-subjects show: %s", r)
	}
	must("data-subjects", "erase", "+31612345678")
	if r := must("data-subjects", "show", "+31612345678"); !strings.Contains(r.stdout, "0 records held") {
		t.Errorf("after the erasure: %s", r)
	}
	if r := must("accounts", "entries", "acme"); !hasLineStarting(r.stdout, "1") || !strings.Contains(r.stdout, "customer:acme:unbilled") || !strings.Contains(r.stdout, "1 entry") {
		t.Errorf("accounts entries: %s", r)
	}
	if r := must("authorize", "--account", "acme", "--destination", "+31612345678", "--quantity", "2"); !strings.Contains(r.stdout, "allowed (estimate 0.150000 EUR)") {
		t.Errorf("authorize: %s", r)
	}
	if r := ledgerctl(t, "accounts", "refund", "pre", server); r.code != exitError || !strings.Contains(r.stderr, "T&C 3.13") {
		t.Errorf("a refund: %s, want refused naming T&C 3.13", r)
	}
	var shown account
	if r := must("accounts", "show", "acme", "-o", "json"); json.Unmarshal([]byte(r.stdout), &shown) != nil || shown.ID != "acme" || shown.CreditLimit != "750.00" {
		t.Errorf("-o json: %s", r)
	}
	if r := must("accounts", "terminate", "acme"); !strings.Contains(r.stdout, "terminated") || !strings.Contains(r.stdout, "closed") {
		t.Errorf("terminate: %s", r)
	}

	r := must("completion", "bash")
	for _, want := range []string{"complete -F _ledgerctl ledgerctl", `"create entries list refund set-limit show terminate update"`, "--period"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the completion lacks %q", want)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		script := filepath.Join(t.TempDir(), "ledgerctl.bash")
		os.WriteFile(script, []byte(r.stdout), 0o644)
		out, err := exec.Command(bash, "-c", `source `+script+`; COMP_WORDS=(ledgerctl accounts s); COMP_CWORD=2; _ledgerctl; echo "${COMPREPLY[@]}"`).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "set-limit show" {
			t.Errorf("bash completes 'accounts s' to %q, %v; want set-limit show", out, err)
		}
	}
}

// Every route of the API has a ledgerctl command: a route added without one fails here.
func TestLedgerctlCoversEveryRoute(t *testing.T) {
	byRoute := map[string]string{
		"POST /v1/accounts":                  "accounts create",
		"GET /v1/accounts":                   "accounts list",
		"GET /v1/accounts/{id}":              "accounts show",
		"PATCH /v1/accounts/{id}":            "accounts update",
		"GET /v1/accounts/{id}/entries":      "accounts entries",
		"PUT /v1/accounts/{id}/credit-limit": "accounts set-limit",
		"PUT /v1/accounts/{id}/prices":       "prices set",
		"GET /v1/accounts/{id}/prices":       "prices show",
		"POST /v1/accounts/{id}/topups":      "topups add",
		"GET /v1/accounts/{id}/topups":       "topups list",
		"POST /v1/accounts/{id}/chargebacks": "chargebacks add",
		"POST /v1/accounts/{id}/refunds":     "accounts refund",
		"POST /v1/accounts/{id}/payments":    "payments add",
		"POST /v1/accounts/{id}/claims":      "claims file",
		"GET /v1/accounts/{id}/claims":       "claims list",
		"GET /v1/accounts/{id}/liability":    "liability",
		"POST /v1/accounts/{id}/terminate":   "accounts terminate",
		"POST /v1/billing-runs":              "billing-runs run",
		"GET /v1/invoices":                   "invoices list",
		"GET /v1/invoices/{id}":              "invoices show",
		"POST /v1/invoices/{id}/disputes":    "disputes open",
		"GET /v1/disputes/{id}":              "disputes show",
		"POST /v1/disputes/{id}/resolve":     "disputes resolve",
		"GET /v1/credit-notes":               "credit-notes list",
		"GET /v1/credit-notes/{id}":          "credit-notes show",
		"GET /v1/exports/invoices":           "invoices export",
		"POST /v1/authorize":                 "authorize",
		"GET /v1/rejected":                   "rejected list",
		"POST /v1/rejected/replay":           "rejected replay",
		"GET /v1/prices":                     "prices list",
		"GET /v1/clock":                      "clock show",
		"POST /v1/clock":                     "clock set",
		"GET /v1/info":                       "info",
		"GET /v1/audit":                      "audit",
		"GET /v1/data-subjects/{e164}":       "data-subjects show",
		"DELETE /v1/data-subjects/{e164}":    "data-subjects erase",
	}
	words := map[string]bool{}
	for _, c := range commands {
		words[c.words] = true
	}
	srv := &api.Server{}
	srv.Handler()
	for _, r := range srv.Routes() {
		cmd, ok := byRoute[r.Pattern]
		switch {
		case !ok:
			t.Errorf("the API serves %s and no ledgerctl command uses it", r.Pattern)
		case !words[cmd]:
			t.Errorf("%s is said to be ledgerctl %s, which is not a command", r.Pattern, cmd)
		}
	}
}
