package ledger_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"ledger/clock"
	"ledger/ledger"
	"ledger/money"
)

func paidAt(at, amount string) ledger.Paid { return ledger.Paid{At: utc(at), Amount: eur(amount)} }

func claim(id, amount, incident string) ledger.Claim {
	return ledger.Claim{ID: id, Amount: eur(amount), IncidentAt: utc(incident), Reason: "messages not delivered"}
}

// TestLiability is R12 (T&C 8.4): liability is capped at what the customer paid in the 12 months
// before the first incident, at most €50,000 for all claims together.
func TestLiability(t *testing.T) {
	// Which payments fall in the window, from (inclusive) to the incident (exclusive), in
	// Amsterdam calendar terms. Each case pays 100.00 at one instant.
	for _, c := range []struct {
		name, incident, from, payment string
		counts                        bool
	}{
		// 12:00 summer time on 4 May 2027 looks back to 12:00 summer time on 4 May 2026.
		{"R12_payment_exactly_12_months_before_counts", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2026-05-04T10:00:00Z", true},
		{"R12_payment_12_months_and_one_day_before_does_not_count", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2026-05-03T10:00:00Z", false},
		{"R12_payment_a_second_before_the_window_does_not_count", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2026-05-04T09:59:59Z", false},
		{"R12_payment_at_the_incident_does_not_count", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2027-05-04T10:00:00Z", false},
		{"R12_payment_a_second_before_the_incident_counts", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2027-05-04T09:59:59Z", true},
		{"R12_payment_after_the_incident_does_not_count", "2027-05-04T10:00:00Z", "2026-05-04T10:00:00Z", "2027-05-05T10:00:00Z", false},
		// 10:00 summer time on Sunday 28 March 2027 (the clocks went forward that night) looks
		// back to 10:00 winter time on 28 March 2026, 09:00 UTC: 365 days and 1 hour.
		{"R12_window_across_DST_spring_exact_local_time_counts", "2027-03-28T08:00:00Z", "2026-03-28T09:00:00Z", "2026-03-28T09:00:00Z", true},
		{"R12_window_across_DST_spring_365_days_in_UTC_does_not_count", "2027-03-28T08:00:00Z", "2026-03-28T09:00:00Z", "2026-03-28T08:00:00Z", false},
		// 13:00 winter time on Sunday 25 October 2026 (the clocks went back that night) looks back
		// to 13:00 summer time on 25 October 2025, 11:00 UTC: 365 days less 1 hour.
		{"R12_window_across_DST_autumn_exact_local_time_counts", "2026-10-25T12:00:00Z", "2025-10-25T11:00:00Z", "2025-10-25T11:00:00Z", true},
		{"R12_window_across_DST_autumn_a_second_earlier_does_not_count", "2026-10-25T12:00:00Z", "2025-10-25T11:00:00Z", "2025-10-25T10:59:59Z", false},
		// 02:30 summer time on 29 March 2027; 02:30 on 29 March 2026 did not exist (01:59:59 CET
		// was followed by 03:00 CEST, at 01:00 UTC): the window opens when the clocks jumped.
		{"R12_window_from_a_skipped_hour_opens_at_the_jump", "2027-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z", true},
		{"R12_window_from_a_skipped_hour_not_before_the_jump", "2027-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T00:59:59Z", false},
		// 02:30 summer time on 25 October 2027; 02:30 on 25 October 2026 happened twice (00:30
		// UTC in summer time, 01:30 UTC in winter time): the window opens at the first.
		{"R12_window_from_a_repeated_hour_opens_at_its_first_occurrence", "2027-10-25T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T00:30:00Z", true},
		{"R12_window_from_a_repeated_hour_not_before_its_first_occurrence", "2027-10-25T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T00:29:59Z", false},
		// 13:00 winter time on 29 February 2028 looks back to 13:00 on 28 February 2027.
		{"R12_29_February_incident_looks_back_to_28_February", "2028-02-29T12:00:00Z", "2027-02-28T12:00:00Z", "2027-02-28T12:00:00Z", true},
		{"R12_29_February_incident_28_February_a_second_earlier_does_not_count", "2028-02-29T12:00:00Z", "2027-02-28T12:00:00Z", "2027-02-28T11:59:59Z", false},
		{"R12_29_February_incident_27_February_does_not_count", "2028-02-29T12:00:00Z", "2027-02-28T12:00:00Z", "2027-02-27T12:00:00Z", false},
		// 1 March 2029 looks back to 1 March 2028: 29 February 2028 is outside.
		{"R12_1_March_incident_29_February_before_does_not_count", "2029-03-01T12:00:00Z", "2028-03-01T12:00:00Z", "2028-02-29T12:00:00Z", false},
		// 00:30 on 15 January in Amsterdam is 23:30 UTC on the 14th: the calendar is Amsterdam's.
		{"R12_window_on_the_amsterdam_date", "2027-01-14T23:30:00Z", "2026-01-14T23:30:00Z", "2026-01-14T23:30:00Z", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, to := ledger.LiabilityWindow(utc(c.incident))
			if !from.Equal(utc(c.from)) || !to.Equal(utc(c.incident)) {
				t.Errorf("window of %s: [%s, %s), want [%s, %s)", c.incident, from.Format(time.RFC3339), to.Format(time.RFC3339), c.from, c.incident)
			}
			want := money.Micros(0)
			if c.counts {
				want = eur("100.00")
			}
			limit, paid := ledger.LiabilityCap([]ledger.Paid{paidAt(c.payment, "100.00")}, utc(c.incident))
			if paid != want || limit != want {
				t.Errorf("paid %s at %s, incident %s: cap %s, paid12m %s; want %s", "100.00", c.payment, c.incident, limit, paid, want)
			}
		})
	}

	// The cap: what was paid in the window, at most €50,000, never below zero.
	for _, c := range []struct {
		name         string
		paid         []ledger.Paid
		cap, paid12m string
	}{
		{"R12_cap_is_what_was_paid_in_the_12_months", []ledger.Paid{
			paidAt("2025-05-03T10:00:00Z", "999.00"),  // before the window
			paidAt("2025-09-01T10:00:00Z", "1000.00"), // invoice paid
			paidAt("2026-02-01T10:00:00Z", "250.50"),  // top-up
			paidAt("2026-05-04T10:00:00Z", "500.00"),  // at the incident
		}, "1250.50", "1250.50"},
		{"R12_cap_at_most_50000", []ledger.Paid{
			paidAt("2025-06-01T10:00:00Z", "40000.00"),
			paidAt("2026-01-01T10:00:00Z", "40000.00"),
		}, "50000.00", "80000.00"},
		{"R12_cap_exactly_50000", []ledger.Paid{paidAt("2025-06-01T10:00:00Z", "50000.00")}, "50000.00", "50000.00"},
		{"R12_cap_zero_when_nothing_paid", nil, "0.00", "0.00"},
		{"R12_cap_chargeback_netted", []ledger.Paid{
			paidAt("2025-06-01T10:00:00Z", "300.00"),
			paidAt("2025-07-01T10:00:00Z", "-100.00"),
		}, "200.00", "200.00"},
		{"R12_cap_never_below_zero", []ledger.Paid{paidAt("2025-07-01T10:00:00Z", "-100.00")}, "0.00", "-100.00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			limit, paid := ledger.LiabilityCap(c.paid, utc("2026-05-04T10:00:00Z"))
			if limit != eur(c.cap) || paid != eur(c.paid12m) {
				t.Errorf("cap %s, paid12m %s; want %s, %s", limit, paid, c.cap, c.paid12m)
			}
		})
	}

	// Claims in a row. Each step: the claim, then what is granted, the total and what remains;
	// refused, when the claim is not granted in full, holds what the refusal must say.
	type step struct {
		claim                     ledger.Claim
		paidSince                 []ledger.Paid // payments received after the previous claim
		granted, total, remaining string
		refused                   []string
	}
	for _, c := range []struct {
		name          string
		paid          []ledger.Paid
		cap, paid12m  string
		firstIncident string
		steps         []step
	}{
		{
			name: "R12_claims_grant_then_partial_then_refusal",
			paid: []ledger.Paid{paidAt("2025-08-01T10:00:00Z", "3000.00"), paidAt("2026-01-10T10:00:00Z", "2000.00")},
			cap:  "5000.00", paid12m: "5000.00", firstIncident: "2026-05-04T10:00:00Z",
			steps: []step{
				{claim: claim("c1", "1200.00", "2026-05-04T10:00:00Z"), granted: "1200.00", total: "1200.00", remaining: "3800.00"},
				{claim: claim("c2", "3000.00", "2026-06-01T10:00:00Z"), granted: "3000.00", total: "4200.00", remaining: "800.00"},
				{claim: claim("c3", "1000.00", "2026-07-01T10:00:00Z"), granted: "800.00", total: "5000.00", remaining: "0.00",
					refused: []string{"T&C 8.4", "claim of 1000.00 EUR granted 800.00 EUR, refused 200.00 EUR", "capped at 5000.00 EUR",
						"5000.00 EUR granted in total, 0.00 EUR remains"}},
				{claim: claim("c4", "500.00", "2026-08-01T10:00:00Z"), granted: "0.00", total: "5000.00", remaining: "0.00",
					refused: []string{"T&C 8.4", "claim of 500.00 EUR granted 0.00 EUR, refused 500.00 EUR", "capped at 5000.00 EUR",
						"5000.00 EUR granted in total, 0.00 EUR remains"}},
			},
		},
		{
			name: "R12_claims_ceiling_50000_for_all_claims_together",
			paid: []ledger.Paid{paidAt("2025-06-01T10:00:00Z", "40000.00"), paidAt("2026-01-01T10:00:00Z", "40000.00")},
			cap:  "50000.00", paid12m: "80000.00", firstIncident: "2026-05-04T10:00:00Z",
			steps: []step{
				{claim: claim("c1", "30000.00", "2026-05-04T10:00:00Z"), granted: "30000.00", total: "30000.00", remaining: "20000.00"},
				{claim: claim("c2", "30000.00", "2026-05-05T10:00:00Z"), granted: "20000.00", total: "50000.00", remaining: "0.00",
					refused: []string{"T&C 8.4", "refused 10000.00 EUR", "capped at 50000.00 EUR", "paid 80000.00 EUR in the 12 months before the first incident on 2026-05-04",
						"at most 50000.00 EUR", "50000.00 EUR granted in total, 0.00 EUR remains"}},
			},
		},
		{
			// Paid 1000.00 before the first incident; a payment of 40,000.00 after it does not raise
			// the cap, though the second claim's incident is after it.
			name: "R12_first_incident_fixes_the_window_a_later_payment_does_not_raise_the_cap",
			paid: []ledger.Paid{paidAt("2026-03-01T10:00:00Z", "1000.00")},
			cap:  "1000.00", paid12m: "1000.00", firstIncident: "2026-06-01T10:00:00Z",
			steps: []step{
				{claim: claim("c1", "400.00", "2026-06-01T10:00:00Z"), granted: "400.00", total: "400.00", remaining: "600.00"},
				{claim: claim("c2", "5000.00", "2026-09-01T10:00:00Z"), paidSince: []ledger.Paid{paidAt("2026-07-01T10:00:00Z", "40000.00")},
					granted: "600.00", total: "1000.00", remaining: "0.00",
					refused: []string{"T&C 8.4", "refused 4400.00 EUR", "capped at 1000.00 EUR", "1000.00 EUR granted in total, 0.00 EUR remains"}},
			},
		},
		{
			// The first claim received has its incident on 1 June 2026 (window from 1 June 2025:
			// 3000.00). The second's incident is earlier, 1 December 2025; its own window would hold
			// the 2000.00 of January 2025, but the first claim's window stays.
			name: "R12_first_claim_received_fixes_the_window_even_for_an_earlier_incident",
			paid: []ledger.Paid{paidAt("2025-01-10T10:00:00Z", "2000.00"), paidAt("2026-02-01T10:00:00Z", "3000.00")},
			cap:  "3000.00", paid12m: "3000.00", firstIncident: "2026-06-01T10:00:00Z",
			steps: []step{
				{claim: claim("c1", "500.00", "2026-06-01T10:00:00Z"), granted: "500.00", total: "500.00", remaining: "2500.00"},
				{claim: claim("c2", "2000.00", "2025-12-01T10:00:00Z"), granted: "2000.00", total: "2500.00", remaining: "500.00"},
			},
		},
		{
			name: "R12_nothing_paid_nothing_granted",
			cap:  "0.00", paid12m: "0.00", firstIncident: "2026-05-04T10:00:00Z",
			steps: []step{
				{claim: claim("c1", "100.00", "2026-05-04T10:00:00Z"), granted: "0.00", total: "0.00", remaining: "0.00",
					refused: []string{"T&C 8.4", "refused 100.00 EUR", "capped at 0.00 EUR", "0.00 EUR granted in total, 0.00 EUR remains"}},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l ledger.Liability
			paid := c.paid
			for _, s := range c.steps {
				paid = append(paid, s.paidSince...)
				next, granted, err := l.Decide(s.claim, paid)
				if err != nil {
					t.Fatalf("claim %s: %v", s.claim.ID, err)
				}
				if granted != eur(s.granted) || next.Granted != eur(s.total) || next.Remaining() != eur(s.remaining) {
					t.Errorf("claim %s of %s: granted %s, total %s, remaining %s; want %s, %s, %s", s.claim.ID, s.claim.Amount,
						granted, next.Granted, next.Remaining(), s.granted, s.total, s.remaining)
				}
				if next.Cap != eur(c.cap) || next.Paid12m != eur(c.paid12m) || !next.FirstIncident.Equal(utc(c.firstIncident)) {
					t.Errorf("claim %s: cap %s, paid12m %s, first incident %s; want %s, %s, %s", s.claim.ID, next.Cap, next.Paid12m,
						next.FirstIncident.Format(time.RFC3339), c.cap, c.paid12m, c.firstIncident)
				}
				msg := refusalMessage(next, s.claim.Amount, granted)
				refusal := next.Refusal(s.claim.Amount, granted)
				switch {
				case s.refused == nil && (msg != "" || refusal != nil):
					t.Errorf("claim %s granted in full, but refused: %q", s.claim.ID, msg)
				case s.refused != nil && (refusal == nil || ledger.ErrorCode(refusal) != ledger.CodeRefused || refusal.Error() != msg):
					t.Errorf("claim %s: refusal %v, want a refusal by T&C 8.4 reading %q", s.claim.ID, refusal, msg)
				}
				for _, want := range s.refused {
					if !strings.Contains(msg, want) {
						t.Errorf("claim %s: refusal %q does not say %q", s.claim.ID, msg, want)
					}
				}
				l = next
			}
		})
	}

	// The whole refusal, word for word.
	t.Run("R12_refusal_message", func(t *testing.T) {
		l := ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("5000.00"), Paid12m: eur("5000.00"), Granted: eur("4200.00")}
		next, granted, err := l.Decide(claim("c3", "1000.00", "2026-07-01T10:00:00Z"), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "claim of 1000.00 EUR granted 800.00 EUR, refused 200.00 EUR: liability is capped at 5000.00 EUR for all claims together " +
			"(paid 5000.00 EUR in the 12 months before the first incident on 2026-05-04, at most 50000.00 EUR); " +
			"5000.00 EUR granted in total, 0.00 EUR remains (T&C 8.4)"
		if got := refusalMessage(next, eur("1000.00"), granted); got != want {
			t.Errorf("refusal\n got %q\nwant %q", got, want)
		}
	})

	// An invalid claim changes nothing.
	long := strings.Repeat("x", ledger.MaxClaimReasonLength+1)
	for _, c := range []struct {
		name  string
		claim ledger.Claim
	}{
		{"R12_claim_id_required", ledger.Claim{ID: "", Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "x"}},
		{"R12_claim_id_printable", ledger.Claim{ID: "c 1", Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "x"}},
		{"R12_claim_id_at_most_128", ledger.Claim{ID: strings.Repeat("c", 129), Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "x"}},
		{"R12_claim_amount_positive", ledger.Claim{ID: "c1", Amount: 0, IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "x"}},
		{"R12_claim_amount_not_negative", ledger.Claim{ID: "c1", Amount: -eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "x"}},
		{"R12_claim_incident_required", ledger.Claim{ID: "c1", Amount: eur("1.00"), Reason: "x"}},
		{"R12_claim_reason_required", ledger.Claim{ID: "c1", Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: " \n"}},
		{"R12_claim_reason_bounded", ledger.Claim{ID: "c1", Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: long}},
		{"R12_claim_reason_no_control_characters", ledger.Claim{ID: "c1", Amount: eur("1.00"), IncidentAt: utc("2026-05-04T10:00:00Z"), Reason: "a\x00b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("100.00"), Paid12m: eur("100.00"), Granted: eur("10.00")}
			next, granted, err := before.Decide(c.claim, nil)
			if ledger.ErrorCode(err) != ledger.CodeInvalid || next != before || granted != 0 {
				t.Errorf("claim %+v: %v, granted %s, liability %+v; want invalid, nothing changed", c.claim, err, granted, next)
			}
		})
	}
	t.Run("R12_claim_reason_at_the_limit_is_valid", func(t *testing.T) {
		c := claim("c1", "1.00", "2026-05-04T10:00:00Z")
		c.Reason = strings.Repeat("é", ledger.MaxClaimReasonLength)
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})

	// Invariant 5 is asserted: a liability that breaks it is refused as internal.
	for _, c := range []struct {
		name string
		l    ledger.Liability
	}{
		{"invariant_5_granted_above_cap", ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("100.00"), Paid12m: eur("100.00"), Granted: eur("200.00")}},
		{"invariant_5_cap_above_50000", ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("60000.00"), Paid12m: eur("60000.00")}},
		{"invariant_5_cap_not_what_was_paid", ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("100.00"), Paid12m: eur("90.00")}},
		{"invariant_5_granted_negative", ledger.Liability{FirstIncident: utc("2026-05-04T10:00:00Z"), Cap: eur("100.00"), Paid12m: eur("100.00"), Granted: -eur("1.00")}},
		{"invariant_5_granted_before_any_claim", ledger.Liability{Granted: eur("1.00")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, granted, err := c.l.Decide(claim("c1", "1.00", "2026-06-04T10:00:00Z"), nil)
			if ledger.ErrorCode(err) != ledger.CodeInternal || next != c.l || granted != 0 {
				t.Errorf("%+v: %v, granted %s; want an internal error, nothing changed", c.l, err, granted)
			}
		})
	}
}

// lastSunday returns the last Sunday of a month: the clocks change on the last Sundays of March
// and October.
func lastSunday(year int, month time.Month) clock.LocalDate {
	d := time.Date(year, month+1, 0, 12, 0, 0, 0, time.UTC)
	d = d.AddDate(0, 0, -int(d.Weekday()))
	return clock.LocalDate{Year: d.Year(), Month: d.Month(), Day: d.Day()}
}

// wallClock returns what the Amsterdam clock shows at t, written as UTC, so that clock times
// compare as numbers.
func wallClock(t time.Time) time.Time {
	l := t.In(clock.Amsterdam)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// TestLiabilityProperties drives random payment histories and claim sequences, and checks after
// every claim what must hold (RULES.md invariant 5, R12):
//   - 0 ≤ granted for the claim ≤ what it asked, and it is min(asked, what remained);
//   - 0 ≤ Granted ≤ Cap ≤ €50,000, Cap = min(Paid12m, €50,000);
//   - Granted never decreases and is the sum of what each claim was granted;
//   - the first claim fixes FirstIncident and the cap, which never change afterwards, whatever
//     is paid later and whenever later incidents happened;
//   - the window is 12 Amsterdam calendar months: from is the first instant showing the
//     incident's clock time on the date 12 months earlier (clamped) or later.
func TestLiabilityProperties(t *testing.T) {
	base := utc("2026-01-01T00:00:00Z")
	// Incidents are mostly anywhere in 2026–2029, often at night on the dates 12 months after
	// a change of the clocks or on 29 February, where the window's edge is delicate.
	var delicate []clock.LocalDate
	for year := 2025; year <= 2028; year++ {
		delicate = append(delicate, lastSunday(year, time.March).AddMonthsClamped(12), lastSunday(year, time.October).AddMonthsClamped(12),
			lastSunday(year, time.March), lastSunday(year, time.October))
	}
	delicate = append(delicate, clock.LocalDate{Year: 2028, Month: time.February, Day: 29}, clock.LocalDate{Year: 2029, Month: time.February, Day: 28},
		clock.LocalDate{Year: 2029, Month: time.March, Day: 1})
	incidentGen := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.Bool().Draw(t, "delicate") {
			d := rapid.SampledFrom(delicate).Draw(t, "date")
			minute := rapid.IntRange(0, 4*60).Draw(t, "local_minute")
			return time.Date(d.Year, d.Month, d.Day, 0, minute, rapid.IntRange(0, 59).Draw(t, "second"), 0, clock.Amsterdam).UTC()
		}
		return base.Add(time.Duration(rapid.Int64Range(0, 4*365*24*3600).Draw(t, "seconds")) * time.Second)
	})

	rapid.Check(t, func(t *rapid.T) {
		var paid []ledger.Paid
		pay := func(t *rapid.T, around time.Time) {
			// Up to 14 months before and 2 months after; sometimes large, to reach the ceiling.
			at := around.Add(time.Duration(rapid.Int64Range(-14*31*24*3600, 2*31*24*3600).Draw(t, "paid_offset_seconds")) * time.Second)
			cents := rapid.Int64Range(1, 100_000).Draw(t, "paid_cents")
			if rapid.IntRange(0, 9).Draw(t, "large") == 0 {
				cents = rapid.Int64Range(1_000_000, 4_000_000).Draw(t, "paid_cents_large")
			}
			paid = append(paid, ledger.Paid{At: at, Amount: money.Micros(cents * 10_000)})
		}
		firstIncident := incidentGen.Draw(t, "first_incident")
		for range rapid.IntRange(0, 30).Draw(t, "payments") {
			pay(t, firstIncident)
		}
		// The random payments, then payments exactly at the window's edges: from counts, the
		// incident does not.
		from, to := ledger.LiabilityWindow(firstIncident)
		wantPaid := money.Micros(0)
		for _, p := range paid {
			if !p.At.Before(from) && p.At.Before(to) {
				wantPaid += p.Amount
			}
		}
		for _, edge := range []struct {
			name   string
			at     time.Time
			counts bool
		}{{"from", from, true}, {"before_from", from.Add(-time.Nanosecond), false}, {"incident", to, false}, {"before_incident", to.Add(-time.Nanosecond), true}} {
			if rapid.Bool().Draw(t, "pay_at_"+edge.name) {
				paid = append(paid, ledger.Paid{At: edge.at, Amount: eur("1.00")})
				if edge.counts {
					wantPaid += eur("1.00")
				}
			}
		}

		var (
			l          ledger.Liability
			sumGranted money.Micros
			fixed      ledger.Liability
		)
		for i := range rapid.IntRange(1, 20).Draw(t, "claims") {
			if i > 0 && rapid.Bool().Draw(t, "pay_between") {
				pay(t, l.FirstIncident.Add(180*24*time.Hour)) // later payments, also large ones
			}
			incident := firstIncident
			if i > 0 {
				incident = incidentGen.Draw(t, "incident")
			}
			cents := rapid.Int64Range(1, 2_000_000).Draw(t, "claim_cents")
			c := ledger.Claim{ID: fmt.Sprintf("c%d", i), Amount: money.Micros(cents * 10_000), IncidentAt: incident, Reason: "outage"}
			remaining := l.Remaining()
			next, granted, err := l.Decide(c, paid)
			if err != nil {
				t.Fatalf("claim %s: %v", c.ID, err)
			}
			if i == 0 {
				remaining = next.Cap
				fixed = next
				if !next.FirstIncident.Equal(firstIncident) || next.Paid12m != wantPaid || next.Cap != min(wantPaid, ledger.MaxLiability) {
					t.Fatalf("first claim at %s: first incident %s, paid12m %s, cap %s; want %s, %s", firstIncident.Format(time.RFC3339Nano),
						next.FirstIncident.Format(time.RFC3339Nano), next.Paid12m, next.Cap, wantPaid, min(wantPaid, ledger.MaxLiability))
				}
			}
			if granted < 0 || granted > c.Amount || granted != min(c.Amount, remaining) {
				t.Fatalf("claim %s of %s with %s remaining: granted %s", c.ID, c.Amount, remaining, granted)
			}
			if next.Granted < 0 || next.Granted > next.Cap || next.Cap > ledger.MaxLiability || next.Cap != min(next.Paid12m, ledger.MaxLiability) {
				t.Fatalf("claim %s: invariant 5 broken: %+v", c.ID, next)
			}
			if next.Granted < l.Granted {
				t.Fatalf("claim %s: granted total went down from %s to %s", c.ID, l.Granted, next.Granted)
			}
			sumGranted += granted
			if next.Granted != sumGranted {
				t.Fatalf("claim %s: granted total %s, but the claims were granted %s", c.ID, next.Granted, sumGranted)
			}
			if !next.FirstIncident.Equal(fixed.FirstIncident) || next.Cap != fixed.Cap || next.Paid12m != fixed.Paid12m {
				t.Fatalf("claim %s: the window or cap moved: %+v, fixed by the first claim as %+v", c.ID, next, fixed)
			}
			if msg := refusalMessage(next, c.Amount, granted); (granted < c.Amount) != strings.Contains(msg, "T&C 8.4") {
				t.Fatalf("claim %s of %s granted %s: refusal %q", c.ID, c.Amount, granted, msg)
			}
			l = next
		}

		// The window: from lies on the date 12 months earlier (clamped) and is the first instant
		// at which the Amsterdam clock shows the incident's clock time on that date, or later.
		date := clock.DateOf(firstIncident).AddMonthsClamped(-12)
		local := firstIncident.In(clock.Amsterdam)
		wall := time.Date(date.Year, date.Month, date.Day, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), time.UTC)
		if !to.Equal(firstIncident) || wallClock(from).Before(wall) || !wallClock(from.Add(-time.Nanosecond)).Before(wall) ||
			wallClock(from).Sub(wall) > time.Hour {
			t.Fatalf("incident %s (%s local): window [%s, %s), from shows %s local, want the first instant showing %s or later",
				firstIncident.Format(time.RFC3339Nano), local.Format(time.DateTime), from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano),
				from.In(clock.Amsterdam).Format(time.DateTime), wall.Format(time.DateTime))
		}
		if days := to.Sub(from); days < 365*24*time.Hour-time.Hour || days > 366*24*time.Hour+time.Hour {
			t.Fatalf("incident %s: window of %s", firstIncident.Format(time.RFC3339), days)
		}
	})
}

// R12, R8: a granted claim is a credit to the customer, booked against the provider's expense;
// a claim granted nothing posts nothing.
func TestClaimTransaction(t *testing.T) {
	t.Run("R12_granted_claim_credits_the_customer", func(t *testing.T) {
		tx, err := ledger.ClaimTransaction("acme", "c1", eur("250.00"), utc("2026-06-01T10:00:00Z"))
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.Entry{
			{LedgerAccount: "expense:liability_claims", Amount: eur("250.00")},
			{LedgerAccount: "customer:acme:credit", AccountID: "acme", Amount: -eur("250.00")},
		}
		if tx.Kind != ledger.KindClaim || !tx.At.Equal(utc("2026-06-01T10:00:00Z")) || fmt.Sprint(tx.Entries) != fmt.Sprint(want) ||
			!strings.Contains(tx.Memo, "T&C 8.4") {
			t.Errorf("transaction %+v, want kind claim at 2026-06-01 with entries %+v and a memo citing T&C 8.4", tx, want)
		}
	})
	for _, granted := range []string{"0", "-1.00"} {
		t.Run("R12_nothing_granted_posts_nothing_"+granted, func(t *testing.T) {
			if tx, err := ledger.ClaimTransaction("acme", "c1", eur(granted), utc("2026-06-01T10:00:00Z")); ledger.ErrorCode(err) != ledger.CodeInternal {
				t.Errorf("granted %s: %+v, %v; want an internal error", granted, tx, err)
			}
		})
	}
}

// refusalMessage is the message of Refusal, "" when nothing was refused.
func refusalMessage(l ledger.Liability, asked, granted money.Micros) string {
	if err := l.Refusal(asked, granted); err != nil {
		return err.Error()
	}
	return ""
}
