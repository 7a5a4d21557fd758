package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ledger/clock"
	"ledger/ledger"
)

func ptr[T any](v T) *T { return &v }

// CONTRACT 3.1 and the defaults of the terms: what opening an account takes and gives.
func TestNewAccountOpen(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	valid := func() ledger.NewAccount {
		return ledger.NewAccount{ID: "acme", Name: "Acme B.V.", Type: "postpaid", Country: "NL"}
	}

	t.Run("defaults_of_the_terms", func(t *testing.T) {
		a, err := valid().Open(now, "admin:1234")
		if err != nil {
			t.Fatal(err)
		}
		if a.CreditLimit.String() != "5000" { // T&C 3.5: standard credit limit €5,000
			t.Errorf("credit limit %s, want 5000", a.CreditLimit)
		}
		if a.PaymentTermsDays != 14 { // T&C 3.7
			t.Errorf("payment terms %d days, want 14", a.PaymentTermsDays)
		}
		if !a.Indexation { // T&C 3.4: indexed unless the agreement opts out
			t.Error("indexation off, want on")
		}
		if !a.RegisteredAt.Equal(now) || !a.CreatedAt.Equal(now) {
			t.Errorf("registered %s created %s, want both %s", a.RegisteredAt, a.CreatedAt, now)
		}
		if a.Status != ledger.Active || a.Type != ledger.Postpaid || a.CreatedBy != "admin:1234" || a.Name != "Acme B.V." {
			t.Errorf("account %+v, want active postpaid created by admin:1234", a)
		}
	})

	t.Run("agreement_overrides_defaults_T&C_2.7", func(t *testing.T) {
		n := valid()
		n.Type = "prepaid"
		n.CreditLimit = ptr("7500.00")
		n.PaymentTermsDays = ptr(30)
		n.Indexation = ptr(false)
		n.RegisteredAt = ptr("2026-03-01T00:00:00+01:00")
		a, err := n.Open(now, "loopback")
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != ledger.Prepaid || a.CreditLimit.StringFixed(2) != "7500.00" || a.PaymentTermsDays != 30 || a.Indexation {
			t.Errorf("account %+v, want prepaid, limit 7500.00, 30 days, no indexation", a)
		}
		if want := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC); !a.RegisteredAt.Equal(want) || a.RegisteredAt.Location() != time.UTC {
			t.Errorf("registered_at %s, want %s in UTC", a.RegisteredAt, want)
		}
	})

	t.Run("country_normalised_upper_case", func(t *testing.T) {
		n := valid()
		n.Country = " nl "
		a, err := n.Open(now, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Country != "NL" {
			t.Errorf("country %q, want NL", a.Country)
		}
	})

	t.Run("vat_id_normalised", func(t *testing.T) {
		n := valid()
		n.Country, n.VATID = "BE", " be 0123 456 789 "
		a, err := n.Open(now, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.VATID != "BE0123456789" {
			t.Errorf("vat_id %q, want BE0123456789", a.VATID)
		}
	})

	invalid := []struct {
		name   string
		change func(n *ledger.NewAccount)
	}{
		{"bad_id_upper_case", func(n *ledger.NewAccount) { n.ID = "Acme" }},
		{"bad_id_empty", func(n *ledger.NewAccount) { n.ID = "" }},
		{"bad_id_space", func(n *ledger.NewAccount) { n.ID = "ac me" }},
		{"bad_id_64_characters", func(n *ledger.NewAccount) { n.ID = strings.Repeat("a", 64) }},
		{"name_required", func(n *ledger.NewAccount) { n.Name = "  " }},
		{"bad_type", func(n *ledger.NewAccount) { n.Type = "credit" }},
		{"type_required", func(n *ledger.NewAccount) { n.Type = "" }},
		{"country_required", func(n *ledger.NewAccount) { n.Country = "" }},
		{"country_three_letters", func(n *ledger.NewAccount) { n.Country = "NLD" }},
		{"country_digit", func(n *ledger.NewAccount) { n.Country = "N1" }},
		{"country_non_ASCII", func(n *ledger.NewAccount) { n.Country = "ÑL" }},
		{"negative_credit_limit", func(n *ledger.NewAccount) { n.CreditLimit = ptr("-1.00") }},
		{"credit_limit_exponent", func(n *ledger.NewAccount) { n.CreditLimit = ptr("5e3") }},
		{"credit_limit_empty", func(n *ledger.NewAccount) { n.CreditLimit = ptr("") }},
		{"negative_payment_terms", func(n *ledger.NewAccount) { n.PaymentTermsDays = ptr(-1) }},
		{"payment_terms_beyond_a_year", func(n *ledger.NewAccount) { n.PaymentTermsDays = ptr(366) }},
		{"registered_at_not_RFC3339", func(n *ledger.NewAccount) { n.RegisteredAt = ptr("2026-03-01") }},
		{"email_without_at", func(n *ledger.NewAccount) { n.Email = "billing.acme.example" }},
		{"vat_id_too_long", func(n *ledger.NewAccount) { n.VATID = strings.Repeat("9", 21) }},
	}
	for _, tc := range invalid {
		t.Run("invalid_"+tc.name, func(t *testing.T) {
			n := valid()
			tc.change(&n)
			_, err := n.Open(now, "")
			var e *ledger.Error
			if !errors.As(err, &e) || e.Code != ledger.CodeInvalid {
				t.Errorf("error %v, want a *ledger.Error with code invalid", err)
			}
		})
	}

	// R5: VAT at sign-up.
	vat := []struct {
		name, country, vatID string
		refused              bool
	}{
		{"R5_EU_outside_NL_without_vat_id_refused", "FR", "", true},
		{"R5_EU_outside_NL_lower_case_without_vat_id_refused", "de", "", true},
		{"R5_EU_outside_NL_blank_vat_id_refused", "BE", "   ", true},
		{"R5_EU_outside_NL_with_vat_id_ok", "FR", "FR12345678901", false},
		{"R5_NL_without_vat_id_ok", "NL", "", false},
		{"R5_outside_EU_US_without_vat_id_ok", "US", "", false},
		{"R5_outside_EU_GB_without_vat_id_ok", "GB", "", false},
		{"R5_outside_EU_CH_without_vat_id_ok", "CH", "", false},
	}
	for _, tc := range vat {
		t.Run(tc.name, func(t *testing.T) {
			n := valid()
			n.Country, n.VATID = tc.country, tc.vatID
			_, err := n.Open(now, "")
			if !tc.refused {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var e *ledger.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want a *ledger.Error", err)
			}
			if e.Code != ledger.CodeRefused || !strings.Contains(e.Clause, "R5") {
				t.Errorf("code %s clause %q, want refused with a clause naming R5", e.Code, e.Clause)
			}
			if !strings.Contains(e.Error(), "R5") || !strings.Contains(e.Error(), "vat_id") {
				t.Errorf("message %q should name R5 and vat_id", e.Error())
			}
		})
	}
}

// R13 (T&C 10.1, 10.2): the agreement runs a year from registration and renews by a year unless
// terminated 3 months before the end; dates are Amsterdam dates.
func TestAccountRenewal(t *testing.T) {
	amsterdam := func(y int, m time.Month, d, h int) time.Time {
		return time.Date(y, m, d, h, 0, 0, 0, clock.Amsterdam)
	}
	tests := []struct {
		name            string
		registered, now time.Time
		renewal, notice string
	}{
		{"R13_registered_2026_03_01_seen_2026_11_25",
			amsterdam(2026, 3, 1, 0), amsterdam(2026, 11, 25, 12), "2027-03-01", "2026-12-01"},
		{"R13_registered_at_midnight_Amsterdam_is_the_day_before_in_UTC",
			time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), amsterdam(2026, 11, 25, 12), "2027-03-01", "2026-12-01"},
		{"R13_on_the_registration_day",
			amsterdam(2026, 3, 1, 10), amsterdam(2026, 3, 1, 18), "2027-03-01", "2026-12-01"},
		{"R13_day_before_the_anniversary",
			amsterdam(2026, 3, 1, 0), amsterdam(2027, 2, 28, 23), "2027-03-01", "2026-12-01"},
		{"R13_on_the_anniversary_it_has_renewed",
			amsterdam(2026, 3, 1, 0), amsterdam(2027, 3, 1, 0), "2028-03-01", "2027-12-01"},
		{"R13_after_the_notice_deadline",
			amsterdam(2026, 3, 1, 0), amsterdam(2026, 12, 2, 0), "2027-03-01", "2026-12-01"},
		{"R13_29_February_renews_28_February",
			amsterdam(2028, 2, 29, 9), amsterdam(2028, 6, 1, 9), "2029-02-28", "2028-11-28"},
		{"R13_29_February_second_year_28_February",
			amsterdam(2028, 2, 29, 9), amsterdam(2029, 3, 1, 9), "2030-02-28", "2029-11-28"},
		{"R13_29_February_leap_anniversary_29_February",
			amsterdam(2028, 2, 29, 9), amsterdam(2031, 6, 1, 9), "2032-02-29", "2031-11-29"},
		{"R13_31_May_notice_end_of_February",
			amsterdam(2026, 5, 31, 9), amsterdam(2026, 6, 1, 9), "2027-05-31", "2027-02-28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ledger.Account{RegisteredAt: tc.registered.UTC()}
			now := tc.now.UTC()
			if got := a.RenewalDate(now).String(); got != tc.renewal {
				t.Errorf("renewal %s, want %s", got, tc.renewal)
			}
			if got := a.NoticeDeadline(now).String(); got != tc.notice {
				t.Errorf("notice deadline %s, want %s", got, tc.notice)
			}
		})
	}
}
