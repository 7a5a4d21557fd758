package ledger_test

import (
	"strings"
	"testing"
	"time"

	"ledger/clock"
	"ledger/invoices"
	"ledger/ledger"
)

func day(s string) clock.LocalDate {
	d, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestAdmitDispute(t *testing.T) {
	// An invoice of €121.00 due on 15 April, €21.00 of it paid: €100.00 open.
	open := eur("100.00")
	for _, tc := range []struct {
		name, on, amount string
		code             ledger.Code // "" = admitted
		names            string
	}{
		{"R7_T&C_3.11_on_the_due_date", "2026-04-15", "40.00", "", ""},
		{"R7_T&C_3.11_the_day_after_is_too_late", "2026-04-16", "40.00", ledger.CodeRefused, "T&C 3.11"},
		{"R7_all_that_is_open", "2026-04-01", "100.00", "", ""},
		{"R7_not_a_cent_more", "2026-04-01", "100.01", ledger.CodeConflict, "100.00 EUR outstanding"},
		{"R7_an_amount_at_all", "2026-04-01", "0", ledger.CodeInvalid, "> 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.AdmitDispute("INV-2026-000001", day("2026-04-15"), day(tc.on), open, eur(tc.amount))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if ledger.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.names) {
				t.Fatalf("got %v; want %s naming %q", err, tc.code, tc.names)
			}
		})
	}
}

func TestReceivableRules(t *testing.T) {
	t.Run("R7_outcome_accepted_or_rejected", func(t *testing.T) {
		for _, ok := range []string{ledger.DisputeAccepted, ledger.DisputeRejected} {
			if err := ledger.CheckDisputeOutcome(ok); err != nil {
				t.Errorf("%s: %v", ok, err)
			}
		}
		if err := ledger.CheckDisputeOutcome("Accepted"); ledger.ErrorCode(err) != ledger.CodeInvalid || !strings.Contains(err.Error(), "R7") {
			t.Errorf("Accepted: %v; want invalid naming R7", err)
		}
	})
	t.Run("R5_R9_payments_are_for_postpaid_accounts", func(t *testing.T) {
		if err := ledger.RequirePostpaid("acme", ledger.Postpaid, "payments"); err != nil {
			t.Errorf("postpaid: %v", err)
		}
		err := ledger.RequirePostpaid("pre", ledger.Prepaid, "payments")
		if ledger.ErrorCode(err) != ledger.CodeConflict || !strings.Contains(err.Error(), "payments are for postpaid accounts") ||
			!strings.Contains(err.Error(), "R9") {
			t.Errorf("prepaid: %v; want conflict naming R9", err)
		}
	})
	t.Run("R13_T&C_10.7_no_termination_ahead_of_time", func(t *testing.T) {
		now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
		if err := ledger.CheckTermination(now, now); err != nil {
			t.Errorf("now: %v", err)
		}
		if err := ledger.CheckTermination(now.Add(-48*time.Hour), now); err != nil {
			t.Errorf("two days ago: %v", err)
		}
		if err := ledger.CheckTermination(now.Add(time.Second), now); ledger.ErrorCode(err) != ledger.CodeInvalid || !strings.Contains(err.Error(), "T&C 10.7") {
			t.Errorf("a second ahead: %v; want invalid naming T&C 10.7", err)
		}
	})
	t.Run("R5_T&C_3.2_a_period_is_invoiced_once_it_has_ended", func(t *testing.T) {
		march := invoices.Period{Year: 2026, Month: time.March}
		// 1 April 00:00 Amsterdam is 31 March 22:00 UTC (CEST, from 29 March).
		if err := march.CheckEnded(time.Date(2026, 3, 31, 21, 59, 59, 0, time.UTC)); ledger.ErrorCode(err) != ledger.CodeConflict ||
			!strings.Contains(err.Error(), "2026-04-01T00:00:00+02:00") {
			t.Errorf("a second before: %v; want conflict saying when", err)
		}
		if err := march.CheckEnded(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)); err != nil {
			t.Errorf("at the end: %v", err)
		}
	})
}
