package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ledger/billing"
)

// pricesHeader is the header of prices.csv (CONTRACT 4).
const pricesHeader = "channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n"

// TestLedgerctlPrices: an account's agreed prices set from a file, shown, and listed among the
// prices it pays (T&C 2.7), indexed (R3); a wrong list refused whole, naming its lines.
//
// The list (testTariffs) has NL SMS at 0.075 and FR SMS at 0.068, both from 2026-01-01, a new
// base not yet indexed in March 2026. acme agrees NL SMS at 0.07 from 2025-06-01, indexed on
// 2026-01-01 by the CPI change of 2025, 3.3 %: 0.07 × 1.033 = 0.07231; NL mobile (316) at 0.06
// from 2026-03-01; NL voice at 0.10 per minute, 60 s minimum, 30 s increments.
func TestLedgerctlPrices(t *testing.T) {
	l := startLedgerd(t, nil)
	server := "--server=" + l.url()
	l.postpaid("", "acme")
	dir := t.TempDir()
	agreed := writeFile(t, dir, "acme.csv", pricesHeader+
		"sms,,outbound,31,NL,0.07,,,2025-06-01,Agreed SMS Netherlands\n"+
		"sms,,outbound,316,NL,0.06,,,2026-03-01,Agreed SMS NL mobile\n"+
		"voice,,outbound,31,NL,0.10,60,30,2026-01-01,Agreed voice Netherlands\n")

	t.Run("T&C_2.7_without_an_agreement_the_list_prices", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "show", "acme")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "acme has no agreed prices: it pays the list prices") {
			t.Error(r)
		}
		r = ledgerctl(t, server, "prices", "show", "nobody")
		if r.code != 1 || r.stderr != "ledgerctl: not_found: account \"nobody\" does not exist\n" {
			t.Error(r)
		}
	})

	t.Run("T&C_2.7_set_from_a_file", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "set", "acme", agreed)
		if r.code != 0 || !hasLine(r.stdout, "Agreed", "prices", "of", "acme", "in", "force", "(T&C", "2.7)") ||
			!hasLine(r.stdout, "version", "1") || !hasLine(r.stdout, "rows", "3") {
			t.Fatal(r)
		}
	})

	t.Run("T&C_2.7_show_the_agreement_in_force", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "show", "acme")
		if r.code != 0 || !hasLine(r.stdout, "version", "1") || !hasLine(r.stdout, "rows", "3") {
			t.Fatal(r)
		}
		for _, want := range [][]string{
			{"sms", "*", "outbound", "31", "NL", "0.07", "-", "-", "2025-06-01", "Agreed", "SMS", "Netherlands"},
			{"sms", "*", "outbound", "316", "NL", "0.06", "-", "-", "2026-03-01", "Agreed", "SMS", "NL", "mobile"},
			{"voice", "*", "outbound", "31", "NL", "0.1", "60", "30", "2026-01-01", "Agreed", "voice", "Netherlands"},
		} {
			if !hasLine(r.stdout, want...) {
				t.Errorf("no row %q\n%s", want, r)
			}
		}
	})

	t.Run("T&C_2.7_R3_list_for_the_account_agreed_first_indexed", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "list", "--account", "acme")
		if r.code != 0 || !hasLine(r.stdout, "Prices", "in", "force", "at", testClockStart, "for", "acme", "(EUR,", "without", "VAT)") {
			t.Fatal(r)
		}
		lines := strings.Split(r.stdout, "\n")
		want := [][]string{
			{"CHANNEL", "PRODUCT", "DIRECTION", "PREFIX", "COUNTRY", "UNIT", "PRICE", "LISTED", "INDEXATIONS", "AGREED", "VALID", "FROM", "DESCRIPTION"},
			{"sms", "*", "outbound", "31", "NL", "0.07231", "0.07", "2025→2026", "+3.3", "%", "agreed", "2025-06-01", "Agreed", "SMS", "Netherlands"},
			{"sms", "*", "outbound", "316", "NL", "0.06", "0.06", "-", "agreed", "2026-03-01", "Agreed", "SMS", "NL", "mobile"},
			{"voice", "*", "outbound", "31", "NL", "0.1", "0.1", "-", "agreed", "2026-01-01", "Agreed", "voice", "Netherlands"},
			{"sms", "*", "outbound", "31", "NL", "0.075", "0.075", "-", "-", "2026-01-01", "SMS", "Netherlands"},
			{"sms", "*", "outbound", "33", "FR", "0.068", "0.068", "-", "-", "2026-01-01", "SMS", "France"},
			{"5", "prices,", "3", "agreed"},
		}
		if len(lines) < 2+len(want) {
			t.Fatal(r)
		}
		for i, w := range want {
			if got := strings.Fields(lines[2+i]); strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("line %d = %q, want the cells %q", 2+i, lines[2+i], w)
			}
		}
	})

	t.Run("T&C_2.7_list_without_account_is_the_list", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "list", "--at", "2026-03-10")
		if r.code != 0 || !hasLine(r.stdout, "2", "prices,", "0", "agreed") || strings.Contains(r.stdout, "Agreed") ||
			!hasLine(r.stdout, "Prices", "in", "force", "at", "2026-03-09T23:00:00Z", "for", "the", "list", "(EUR,", "without", "VAT)") {
			t.Error(r)
		}
	})

	t.Run("T&C_2.7_list_json_is_the_API_answer", func(t *testing.T) {
		r := ledgerctl(t, server, "prices", "list", "--account", "acme", "--json")
		var out pricesInForce
		if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Items) != 5 ||
			!out.Items[0].Agreed || out.Items[0].UnitPrice != "0.07231" || out.Items[0].ListedPrice != "0.07" {
			t.Errorf("%v\n%s", err, r)
		}
	})

	t.Run("R3_prices_needing_a_missing_CPI_change_refused", func(t *testing.T) {
		// cpi.csv has 2025 only: 1 January 2027 needs the change of 2026.
		r := ledgerctl(t, server, "prices", "list", "--at", "2027-01-01")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ledgerctl: refused: ") || !strings.Contains(r.stderr, "CPI change missing for 2026") {
			t.Error(r)
		}
	})

	t.Run("T&C_2.7_wrong_list_refused_whole_naming_each_line", func(t *testing.T) {
		wrong := writeFile(t, dir, "wrong.csv", pricesHeader+
			"sms,,outbound,31,NL,0.0x7,,,2026-04-01,price not a number\n"+
			"sms,,sideways,33,FR,0.05,,,2026-04-01,no such direction\n")
		r := ledgerctl(t, server, "prices", "set", "acme", wrong)
		if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "ledgerctl: invalid: agreed prices (T&C 2.7) refused: ") ||
			!strings.Contains(r.stderr, "prices.csv:2:6 (unit_price)") || !strings.Contains(r.stderr, "prices.csv:3:3 (direction)") {
			t.Error(r)
		}
		if r := ledgerctl(t, server, "prices", "show", "acme"); !hasLine(r.stdout, "version", "1") {
			t.Errorf("the agreement in force changed:\n%s", r)
		}
	})

	t.Run("T&C_2.7_file_over_1_MiB_refused_before_sending", func(t *testing.T) {
		if MaxPriceListBytes != billing.MaxAgreementBytes {
			t.Errorf("MaxPriceListBytes %d, the API takes %d", MaxPriceListBytes, billing.MaxAgreementBytes)
		}
		big := writeFile(t, dir, "big.csv", pricesHeader+strings.Repeat("#", MaxPriceListBytes))
		r := ledgerctl(t, server, "prices", "set", "acme", big)
		if r.code != 1 || !strings.Contains(r.stderr, big+" is larger than 1048576 bytes (1 MiB)") || !strings.Contains(r.stderr, "nothing was sent") {
			t.Error(r)
		}
		if r := ledgerctl(t, server, "prices", "set", "acme", filepath.Join(dir, "missing.csv")); r.code != 1 || !strings.Contains(r.stderr, "missing.csv: no such file") {
			t.Error(r)
		}
	})

	t.Run("T&C_2.7_header_alone_from_stdin_ends_the_agreement", func(t *testing.T) {
		r := ledgerctlInput(t, pricesHeader, server, "prices", "set", "acme", "-")
		if r.code != 0 || r.stdout != "Agreed prices of acme ended (version 2, no rows): it pays the list prices\n" {
			t.Fatal(r)
		}
		if r := ledgerctl(t, server, "prices", "show", "acme"); r.code != 0 || !strings.HasPrefix(r.stdout, "acme has no agreed prices since version 2") {
			t.Error(r)
		}
		if r := ledgerctl(t, server, "prices", "list", "--account", "acme"); !hasLine(r.stdout, "2", "prices,", "0", "agreed") {
			t.Error(r)
		}
	})
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
