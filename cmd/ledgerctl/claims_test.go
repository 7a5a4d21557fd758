package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestLedgerctlClaims: claims for damages filed, listed, and the liability shown (R12, T&C 8.4).
//
// acme paid 100.00 on 1 March 2026. Its first claim, about an incident on 5 March, fixes the
// window (5 March 2025 10:00 to 5 March 2026 10:00) and the cap: 100.00 paid in it. C-1 claims
// 30.00: granted 30.00, 70.00 remains. C-2 claims 80.00: granted the 70.00 left, 10.00 refused,
// 100.00 granted in total, nothing remains.
func TestLedgerctlClaims(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	l.postpaid("", "acme")

	t.Run("T&C_8.4_liability_before_any_payment_or_claim", func(t *testing.T) {
		r := ledgerctl(t, server, "liability", "acme")
		if r.code != 0 || !hasLine(r.stdout, "cap", "0.00") || !hasLine(r.stdout, "claims", "0") ||
			!hasLineStarting(r.stdout, "first", "incident", "none", "yet") {
			t.Error(r)
		}
	})

	l.api("", "POST", "/v1/accounts/acme/payments", map[string]any{"id": "P-1", "amount": "100.00",
		"received_at": "2026-03-01T10:00:00Z"}, http.StatusCreated)

	t.Run("T&C_8.4_claim_granted_within_the_cap", func(t *testing.T) {
		r := ledgerctl(t, server, "claims", "file", "acme", "--id", "C-1", "--amount", "30.00",
			"--incident", "2026-03-05T10:00:00Z", "--reason", "SMS outage")
		if r.code != 0 || !hasLine(r.stdout, "Claim", "C-1", "(filed)") || strings.Contains(r.stdout, "refused:") {
			t.Fatal(r)
		}
		for _, want := range [][]string{
			{"amount", "30.00"}, {"granted", "30.00"}, {"refused", "0.00"},
			{"cap", "100.00"}, {"paid", "in", "12", "months", "100.00"}, {"granted", "total", "30.00"}, {"remaining", "70.00"},
			{"first", "incident", "2026-03-05T10:00:00Z"},
		} {
			if !hasLine(r.stdout, want...) {
				t.Errorf("no line of %q\n%s", want, r)
			}
		}
	})

	t.Run("T&C_8.4_claim_beyond_the_cap_refused_in_part", func(t *testing.T) {
		r := ledgerctl(t, server, "claims", "file", "acme", "--id", "C-2", "--amount", "80.00",
			"--incident", "2026-03-06T10:00:00Z", "--reason", "voice outage")
		if r.code != 0 || !hasLine(r.stdout, "Claim", "C-2", "(filed)") {
			t.Fatal(r)
		}
		for _, want := range [][]string{
			{"amount", "80.00"}, {"granted", "70.00"}, {"refused", "10.00"},
			{"cap", "100.00"}, {"granted", "total", "100.00"}, {"remaining", "0.00"},
			{"first", "incident", "2026-03-05T10:00:00Z"},
		} {
			if !hasLine(r.stdout, want...) {
				t.Errorf("no line of %q\n%s", want, r)
			}
		}
		if !strings.Contains(r.stdout, "\nrefused: claim of 80.00 EUR granted 70.00 EUR, refused 10.00 EUR: liability is capped at 100.00 EUR") ||
			!strings.HasSuffix(r.stdout, "(T&C 8.4)\n") {
			t.Errorf("no refusal naming the cap and T&C 8.4\n%s", r)
		}
		again := ledgerctl(t, server, "claims", "file", "acme", "--id", "C-2", "--amount", "80.00",
			"--incident", "2026-03-06T10:00:00Z", "--reason", "voice outage")
		if again.code != 0 || !hasLine(again.stdout, "Claim", "C-2", "(filed", "before", "with", "this", "id;", "nothing", "changed)") ||
			!hasLine(again.stdout, "granted", "total", "100.00") {
			t.Errorf("the same claim again grants nothing more:\n%s", again)
		}
	})

	t.Run("T&C_8.4_claim_about_a_future_incident_invalid", func(t *testing.T) {
		r := ledgerctl(t, server, "claims", "file", "acme", "--id", "C-3", "--amount", "5.00",
			"--incident", "2026-04-01T00:00:00Z", "--reason", "not yet")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: invalid: ") {
			t.Error(r)
		}
	})

	t.Run("T&C_8.4_claims_list_in_the_order_filed", func(t *testing.T) {
		r := ledgerctl(t, server, "claims", "list", "acme")
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		want := [][]string{
			{"CLAIM", "INCIDENT", "AT", "AMOUNT", "GRANTED", "REFUSED", "REMAINING", "FILED", "AT", "REASON"},
			{"C-1", "2026-03-05T10:00:00Z", "30.00", "30.00", "0.00", "70.00", testClockStart, "SMS", "outage"},
			{"C-2", "2026-03-06T10:00:00Z", "80.00", "70.00", "10.00", "0.00", testClockStart, "voice", "outage"},
		}
		if r.code != 0 || len(lines) != len(want)+1 {
			t.Fatal(r)
		}
		for i, w := range want {
			if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("line %d = %q, want the cells %q", i, lines[i], w)
			}
		}
		if got, want := lines[len(lines)-1], "2 claims  claimed 110.00 EUR  granted 100.00 EUR  refused 10.00 EUR"; got != want {
			t.Errorf("summary %q, want %q", got, want)
		}
		var out struct {
			Items []claim `json:"items"`
		}
		r = ledgerctl(t, server, "claims", "list", "acme", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Items) != 2 || out.Items[1].Refused != "10.00" {
			t.Errorf("%v\n%s", err, r)
		}
	})

	t.Run("T&C_8.4_liability_fixed_by_the_first_claim", func(t *testing.T) {
		r := ledgerctl(t, server, "liability", "acme")
		if r.code != 0 {
			t.Fatal(r)
		}
		for _, want := range [][]string{
			{"cap", "100.00"}, {"paid", "in", "12", "months", "100.00"}, {"granted", "total", "100.00"}, {"remaining", "0.00"},
			{"first", "incident", "2026-03-05T10:00:00Z"}, {"window", "2025-03-05T10:00:00Z", "to", "2026-03-05T10:00:00Z"},
			{"claims", "2"},
		} {
			if !hasLine(r.stdout, want...) {
				t.Errorf("no line of %q\n%s", want, r)
			}
		}
		if r := ledgerctl(t, server, "liability", "nobody"); r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: not_found: ") {
			t.Error(r)
		}
	})
}

// TestLedgerctlAudit: the writes through the API, oldest first, with how each was answered
// (CONTRACT 3.10); one account's with --account.
func TestLedgerctlAudit(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	l.postpaid("", "acme")
	l.api("", "POST", "/v1/accounts/acme/refunds", map[string]any{}, http.StatusUnprocessableEntity)
	l.api("", "POST", "/v1/accounts/acme/payments", map[string]any{"id": "P-1", "amount": "10.00",
		"received_at": "2026-03-01T10:00:00Z"}, http.StatusCreated)

	r := ledgerctl(t, server, "audit")
	if r.code != 0 || !hasLine(r.stdout, "3", "records,", "1", "refused") {
		t.Fatal(r)
	}
	for _, want := range [][]string{
		{"loopback", "admin", "POST", "/v1/accounts", "acme", "201"},
		{"loopback", "admin", "POST", "/v1/accounts/acme/refunds", "acme", "422"},
		{"loopback", "admin", "POST", "/v1/accounts/acme/payments", "acme", "201"},
	} {
		if !hasLineContaining(r.stdout, want...) {
			t.Errorf("no line with %q\n%s", want, r)
		}
	}
	r = ledgerctl(t, server, "audit", "--json")
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &page) != nil || len(page.Items) != 3 {
		t.Errorf("--json: %s", r)
	}
	l.postpaid("", "other")
	r = ledgerctl(t, server, "audit", "--account", "other")
	if r.code != 0 || !hasLine(r.stdout, "1", "record,", "0", "refused") {
		t.Error(r)
	}
}

// hasLineContaining reports whether a line of out holds every one of words, in any order.
func hasLineContaining(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		all := true
		for _, w := range words {
			found := false
			for _, f := range fields {
				if f == w {
					found = true
					break
				}
			}
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}
