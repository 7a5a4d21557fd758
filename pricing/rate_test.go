package pricing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// testPrices is the price list the rating table runs against. Amounts in the table are
// computed by hand from these rows.
const testPrices = `channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.075,,,2026-01-01,SMS Netherlands
sms,,outbound,33,FR,0.068,,,2026-01-01,SMS France
sms,,outbound,32,BE,0.072,,,2026-01-01,SMS Belgium
sms,,outbound,3247,BE,0.090,,,2026-04-01,SMS Belgium mobile from April
sms,,outbound,49,DE,0.079,,,2026-01-01,SMS Germany
sms,,outbound,49,DE,0.085,,,2026-04-01,SMS Germany from April
sms,,inbound,,,0.005,,,2026-01-01,SMS received
mms,,,,,0.30,,,2026-01-01,MMS any direction
mms,,inbound,,,0.01,,,2026-01-01,MMS received
voice,,outbound,31,NL,0.03,1,1,2026-01-01,Voice NL fixed
voice,,outbound,316,NL,0.12,60,60,2026-01-01,Voice NL mobile
voice,,outbound,33,FR,0.035,30,6,2026-01-01,Voice France
voice,,outbound,44,GB,0.10,0,6,2026-01-01,Voice United Kingdom
voice,,outbound,39,IT,0.0123456,0,1,2026-01-01,Voice Italy
voice,,outbound,34,ES,0.00003,0,1,2026-01-01,Voice Spain
voice,,inbound,,,0.01,1,1,2026-01-01,Voice received
ott,whatsapp,,,,0.005,,,2026-01-01,WhatsApp message
push,,,,,0.0001,,,2026-01-01,Push notification
push,apns,,,,0.0002,,,2026-01-01,Push via APNs
push,,inbound,,,0.00005,,,2026-01-01,Push received
professional_services,,,,,120,,,2026-01-01,Consultancy per hour
professional_services,overtime,,,,180,,,2026-01-01,Consultancy per hour outside working time
professional_services,travel,,,,0.45,,,2026-01-01,Travel per kilometre
`

const testSurcharges = `channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description
sms,,outbound,33,FR,0.01,all,2026-01-01,French operator surcharge
,,outbound,33,FR,0.003,all,2026-01-01,French levy any channel
,,,336,FR,0.004,all,2026-01-01,French mobile levy any channel
sms,,outbound,31,NL,0.02,all,2026-07-01,Dutch levy from July
voice,,,,,0.05,invalid_caller_id,2026-02-01,Missing or invalid caller ID
`

func testTariffs(t testing.TB) *Tariffs {
	t.Helper()
	prices, err := ParsePrices("prices.csv", strings.NewReader(testPrices))
	if err != nil {
		t.Fatal(err)
	}
	surcharges, err := ParseSurcharges("surcharges.csv", strings.NewReader(testSurcharges))
	if err != nil {
		t.Fatal(err)
	}
	tariffs, err := New(prices, surcharges, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tariffs
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// march is a time at which every January row is in force and no April or July row is.
var march = at("2026-03-10T08:00:00Z")

type wantCharge struct {
	kind, description, prefix, country, unitPrice, units, amount string
}

func usage(description, prefix, country, unitPrice, units, amount string) wantCharge {
	return wantCharge{KindUsage, description, prefix, country, unitPrice, units, amount}
}

func surcharge(description, prefix, country, unitPrice, units, amount string) wantCharge {
	return wantCharge{KindSurcharge, description, prefix, country, unitPrice, units, amount}
}

func TestRate(t *testing.T) {
	tariffs := testTariffs(t)
	const validCaller = "+31201234567"
	tests := []struct {
		name            string
		usage           Usage
		charges         []wantCharge
		billed          int64
		invalidCallerID bool
		total           string
		err             error
	}{
		{
			name:    "R2_sms_parts",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 2, At: march},
			charges: []wantCharge{usage("SMS Netherlands", "31", "NL", "0.075", "2", "0.150000")},
			billed:  2, total: "0.150000",
		},
		{
			name:    "R2_voice_min_and_increment",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice NL mobile", "316", "NL", "0.12", "2", "0.240000")},
			billed:  120, total: "0.240000",
		},
		{
			name:  "SST6.3_missing_caller_id_surcharge_per_billed_minute",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, At: march},
			charges: []wantCharge{
				usage("Voice NL mobile", "316", "NL", "0.12", "2", "0.240000"),
				surcharge("Missing or invalid caller ID", "", "", "0.05", "2", "0.100000"),
			},
			billed: 120, invalidCallerID: true, total: "0.340000",
		},
		{
			name:  "SST6.3_caller_id_with_leading_zero_is_invalid",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 60, CallerID: "+031201234567", At: march},
			charges: []wantCharge{
				usage("Voice NL mobile", "316", "NL", "0.12", "1", "0.120000"),
				surcharge("Missing or invalid caller ID", "", "", "0.05", "1", "0.050000"),
			},
			billed: 60, invalidCallerID: true, total: "0.170000",
		},
		{
			name:  "SST6.3_caller_id_without_plus_is_invalid",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 60, CallerID: "0031201234567", At: march},
			charges: []wantCharge{
				usage("Voice NL mobile", "316", "NL", "0.12", "1", "0.120000"),
				surcharge("Missing or invalid caller ID", "", "", "0.05", "1", "0.050000"),
			},
			billed: 60, invalidCallerID: true, total: "0.170000",
		},
		{
			name:  "SST6.3_caller_id_of_16_digits_is_invalid",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 60, CallerID: "+3120123456789012", At: march},
			charges: []wantCharge{
				usage("Voice NL mobile", "316", "NL", "0.12", "1", "0.120000"),
				surcharge("Missing or invalid caller ID", "", "", "0.05", "1", "0.050000"),
			},
			billed: 60, invalidCallerID: true, total: "0.170000",
		},
		{
			name:    "SST6.3_inbound_call_is_not_held_to_caller_id",
			usage:   Usage{Channel: "voice", Direction: "inbound", Destination: "+31201234567", Quantity: 30, At: march},
			charges: []wantCharge{usage("Voice received", "", "", "0.01", "0.5", "0.005000")},
			billed:  30, total: "0.005000",
		},
		{
			name:    "SST6.3_condition_counted_without_surcharge_row_in_force",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, At: at("2026-01-15T12:00:00Z")},
			charges: []wantCharge{usage("Voice NL mobile", "316", "NL", "0.12", "2", "0.240000")},
			billed:  120, invalidCallerID: true, total: "0.240000",
		},
		{
			name:    "R2_voice_zero_seconds_not_charged_no_surcharge",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 0, At: march},
			charges: []wantCharge{usage("Voice NL mobile", "316", "NL", "0.12", "0", "0.000000")},
			billed:  0, invalidCallerID: true, total: "0",
		},
		{
			name:    "R2_voice_per_second_fixed_line",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31201234567", Quantity: 61, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice NL fixed", "31", "NL", "0.03", "1.016667", "0.030500")},
			billed:  61, total: "0.030500",
		},
		{
			name:    "R2_voice_one_second_billed_a_minimum_minute",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 1, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice NL mobile", "316", "NL", "0.12", "1", "0.120000")},
			billed:  60, total: "0.120000",
		},
		{
			// 7 s in steps of 6 is 12 s, below the 30 s minimum: 30 s = 0.5 min at 0.035.
			name:    "R2_voice_minimum_above_rounded_seconds",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+33123456789", Quantity: 7, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice France", "33", "FR", "0.035", "0.5", "0.017500"), surcharge("French levy any channel", "33", "FR", "0.003", "0.5", "0.001500")},
			billed:  30, total: "0.019000",
		},
		{
			name:    "R2_voice_increment_6_without_minimum",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+442071234567", Quantity: 7, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice United Kingdom", "44", "GB", "0.10", "0.2", "0.020000")},
			billed:  12, total: "0.020000",
		},
		{
			// 0.0123456 × 7 / 60 = 0.00144032: rounds down to 0.001440.
			name:    "R2_voice_sub_micro_price_rounds_once",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+390612345678", Quantity: 7, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice Italy", "39", "IT", "0.0123456", "0.116667", "0.001440")},
			billed:  7, total: "0.001440",
		},
		{
			// 0.00003 × 1 / 60 = 0.0000005 exactly: half rounds away from zero to 0.000001.
			name:    "R2_voice_exact_half_rounds_away_from_zero",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+34912345678", Quantity: 1, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice Spain", "34", "ES", "0.00003", "0.016667", "0.000001")},
			billed:  1, total: "0.000001",
		},
		{
			// 40 s in steps of 6 after a 30 s minimum: 42 s = 0.7 min; 0.035 × 0.7 and the
			// any-channel French levy 0.003 × 0.7.
			name:  "T&C3.3_any_channel_surcharge_on_voice_per_billed_minute",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+33123456789", Quantity: 40, CallerID: validCaller, At: march},
			charges: []wantCharge{
				usage("Voice France", "33", "FR", "0.035", "0.7", "0.024500"),
				surcharge("French levy any channel", "33", "FR", "0.003", "0.7", "0.002100"),
			},
			billed: 42, total: "0.026600",
		},
		{
			name:  "T&C3.3_french_operator_surcharge_own_line",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+33123456789", Quantity: 1, At: march},
			charges: []wantCharge{
				usage("SMS France", "33", "FR", "0.068", "1", "0.068000"),
				surcharge("French operator surcharge", "33", "FR", "0.01", "1", "0.010000"),
			},
			billed: 1, total: "0.078000",
		},
		{
			name:  "T&C3.3_longer_prefix_surcharge_beats_exact_channel",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+33612345678", Quantity: 3, At: march},
			charges: []wantCharge{
				usage("SMS France", "33", "FR", "0.068", "3", "0.204000"),
				surcharge("French mobile levy any channel", "336", "FR", "0.004", "3", "0.012000"),
			},
			billed: 3, total: "0.216000",
		},
		{
			name:  "T&C3.3_surcharge_in_force_from_its_valid_from",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: at("2026-07-15T08:00:00Z")},
			charges: []wantCharge{
				usage("SMS Netherlands", "31", "NL", "0.075", "1", "0.075000"),
				surcharge("Dutch levy from July", "31", "NL", "0.02", "1", "0.020000"),
			},
			billed: 1, total: "0.095000",
		},
		{
			name:    "R1_inbound_sms_matches_inbound_row_not_outbound_prefix",
			usage:   Usage{Channel: "sms", Direction: "inbound", Destination: "+31612345678", Quantity: 1, At: march},
			charges: []wantCharge{usage("SMS received", "", "", "0.005", "1", "0.005000")},
			billed:  1, total: "0.005000",
		},
		{
			name:    "R2_whatsapp_by_product_any_direction",
			usage:   Usage{Channel: "ott", Product: "whatsapp", Direction: "inbound", Destination: "+4915112345678", Quantity: 10, At: march},
			charges: []wantCharge{usage("WhatsApp message", "", "", "0.005", "10", "0.050000")},
			billed:  10, total: "0.050000",
		},
		{
			name:  "R2_ott_product_without_row_has_no_price",
			usage: Usage{Channel: "ott", Product: "rcs", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: march},
			err:   ErrNoPrice,
		},
		{
			name:    "R2_exact_product_beats_any_product",
			usage:   Usage{Channel: "push", Product: "apns", Direction: "outbound", Destination: "+31612345678", Quantity: 3, At: march},
			charges: []wantCharge{usage("Push via APNs", "", "", "0.0002", "3", "0.000600")},
			billed:  3, total: "0.000600",
		},
		{
			name:    "R2_any_product_row_prices_other_products",
			usage:   Usage{Channel: "push", Product: "fcm", Direction: "outbound", Destination: "+31612345678", Quantity: 3, At: march},
			charges: []wantCharge{usage("Push notification", "", "", "0.0001", "3", "0.000300")},
			billed:  3, total: "0.000300",
		},
		{
			name:    "R2_exact_product_beats_exact_direction",
			usage:   Usage{Channel: "push", Product: "apns", Direction: "inbound", Destination: "+31612345678", Quantity: 1, At: march},
			charges: []wantCharge{usage("Push via APNs", "", "", "0.0002", "1", "0.000200")},
			billed:  1, total: "0.000200",
		},
		{
			name:    "R2_exact_direction_beats_any_direction",
			usage:   Usage{Channel: "mms", Direction: "inbound", Destination: "+31612345678", Quantity: 1, At: march},
			charges: []wantCharge{usage("MMS received", "", "", "0.01", "1", "0.010000")},
			billed:  1, total: "0.010000",
		},
		{
			name:    "R2_any_direction_row_prices_outbound",
			usage:   Usage{Channel: "mms", Direction: "outbound", Destination: "+31612345678", Quantity: 2, At: march},
			charges: []wantCharge{usage("MMS any direction", "", "", "0.30", "2", "0.600000")},
			billed:  2, total: "0.600000",
		},
		{
			name:    "R2_longest_prefix_wins",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 120, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice NL mobile", "316", "NL", "0.12", "2", "0.240000")},
			billed:  120, total: "0.240000",
		},
		{
			name:    "R2_shorter_prefix_when_longer_not_matching",
			usage:   Usage{Channel: "voice", Direction: "outbound", Destination: "+31101234567", Quantity: 120, CallerID: validCaller, At: march},
			charges: []wantCharge{usage("Voice NL fixed", "31", "NL", "0.03", "2", "0.060000")},
			billed:  120, total: "0.060000",
		},
		{
			name:    "R1_row_not_in_force_the_second_before_amsterdam_midnight",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+4915112345678", Quantity: 1, At: at("2026-03-31T21:59:59Z")},
			charges: []wantCharge{usage("SMS Germany", "49", "DE", "0.079", "1", "0.079000")},
			billed:  1, total: "0.079000",
		},
		{
			name:    "R1_newer_version_replaces_older_at_amsterdam_midnight",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+4915112345678", Quantity: 1, At: at("2026-03-31T22:00:00Z")},
			charges: []wantCharge{usage("SMS Germany from April", "49", "DE", "0.085", "1", "0.085000")},
			billed:  1, total: "0.085000",
		},
		{
			name:    "R1_prefix_not_yet_in_force_leaves_shorter_prefix",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+32470123456", Quantity: 1, At: march},
			charges: []wantCharge{usage("SMS Belgium", "32", "BE", "0.072", "1", "0.072000")},
			billed:  1, total: "0.072000",
		},
		{
			name:    "R1_prefix_in_force_from_its_valid_from",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+32470123456", Quantity: 1, At: at("2026-04-15T08:00:00Z")},
			charges: []wantCharge{usage("SMS Belgium mobile from April", "3247", "BE", "0.090", "1", "0.090000")},
			billed:  1, total: "0.090000",
		},
		{
			// 2025-12-31T22:59:59Z is 23:59:59 CET, the last second before the list starts.
			name:  "R1_no_price_before_the_first_valid_from",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: at("2025-12-31T22:59:59Z")},
			err:   ErrNoPrice,
		},
		{
			name:    "R1_price_from_amsterdam_midnight_in_winter",
			usage:   Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: at("2025-12-31T23:00:00Z")},
			charges: []wantCharge{usage("SMS Netherlands", "31", "NL", "0.075", "1", "0.075000")},
			billed:  1, total: "0.075000",
		},
		{
			name:  "R1_unknown_destination_has_no_price",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+9991234567", Quantity: 1, At: march},
			err:   ErrNoPrice,
		},
		{
			name:    "SST9.1_professional_services_per_hour",
			usage:   Usage{Channel: "professional_services", Direction: "outbound", Quantity: 90, At: march},
			charges: []wantCharge{usage("Consultancy per hour", "", "", "120", "1.5", "180.000000")},
			billed:  90, total: "180.000000",
		},
		{
			// R2, SST 9.1: the ledger decides the overtime by working time; an event cannot ask for it.
			name:  "SST9.1_professional_services_product_overtime_refused",
			usage: Usage{Channel: "professional_services", Product: "overtime", Direction: "outbound", Quantity: 7, At: march},
			err:   ErrInvalidUsage,
		},
		{
			// A misspelt product is refused, not billed as hours: 90 km are not 90 minutes.
			name:  "SST9.1_professional_services_unknown_product_refused",
			usage: Usage{Channel: "professional_services", Product: "travle", Direction: "outbound", Quantity: 90, At: march},
			err:   ErrInvalidUsage,
		},
		{
			// R2, SST 9.1: travel per kilometre by its own row, whatever the hour (a Saturday night
			// is not overtime for kilometres).
			name:    "SST9.1_travel_per_kilometre",
			usage:   Usage{Channel: "professional_services", Product: "travel", Direction: "outbound", Quantity: 90, At: time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC)},
			charges: []wantCharge{usage("Travel per kilometre", "", "", "0.45", "90", "40.500000")},
			billed:  90, total: "40.500000",
		},
		{
			// No materials row: no price, never the hourly rate.
			name:  "SST9.1_materials_without_a_row_no_price",
			usage: Usage{Channel: "professional_services", Product: "materials", Direction: "outbound", Quantity: 3, At: march},
			err:   ErrNoPrice,
		},
		{
			name:  "malformed_direction_missing",
			usage: Usage{Channel: "sms", Destination: "+31612345678", Quantity: 1, At: march},
			err:   ErrInvalidUsage,
		},
		{
			name:  "malformed_unknown_channel",
			usage: Usage{Channel: "fax", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: march},
			err:   ErrInvalidUsage,
		},
		{
			name:  "malformed_destination_without_plus",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "31612345678", Quantity: 1, At: march},
			err:   ErrInvalidUsage,
		},
		{
			name:  "malformed_negative_quantity",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: -1, At: march},
			err:   ErrInvalidUsage,
		},
		{
			name:  "malformed_quantity_beyond_limit",
			usage: Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: MaxQuantity + 1, At: march},
			err:   ErrInvalidUsage,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tariffs.Rate(tc.usage)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Rate: error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rate: %v", err)
			}
			if len(got.Charges) != len(tc.charges) {
				t.Fatalf("got %d charges %+v, want %d", len(got.Charges), got.Charges, len(tc.charges))
			}
			for i, want := range tc.charges {
				c := got.Charges[i]
				if c.Kind != want.kind || c.Description != want.description || c.Prefix != want.prefix || c.Country != want.country {
					t.Errorf("charge %d: %s %q prefix %q country %q, want %s %q prefix %q country %q",
						i, c.Kind, c.Description, c.Prefix, c.Country, want.kind, want.description, want.prefix, want.country)
				}
				if c.Channel != tc.usage.Channel {
					t.Errorf("charge %d: channel %q, want %q", i, c.Channel, tc.usage.Channel)
				}
				if !c.UnitPrice.Equal(decimal.RequireFromString(want.unitPrice)) {
					t.Errorf("charge %d: unit price %s, want %s", i, c.UnitPrice, want.unitPrice)
				}
				if !c.Units.Equal(decimal.RequireFromString(want.units)) {
					t.Errorf("charge %d: units %s, want %s", i, c.Units, want.units)
				}
				if c.Amount.StringFixed(6) != want.amount || !c.Amount.Equal(decimal.RequireFromString(want.amount)) {
					t.Errorf("charge %d: amount %s, want %s", i, c.Amount, want.amount)
				}
			}
			if got.BilledQuantity != tc.billed {
				t.Errorf("billed quantity %d, want %d", got.BilledQuantity, tc.billed)
			}
			if got.InvalidCallerID != tc.invalidCallerID {
				t.Errorf("invalid caller id %v, want %v", got.InvalidCallerID, tc.invalidCallerID)
			}
			if !got.Total.Equal(decimal.RequireFromString(tc.total)) {
				t.Errorf("total %s, want %s", got.Total, tc.total)
			}
		})
	}
}

func TestRateNoPriceMessage(t *testing.T) {
	tariffs := testTariffs(t)
	tests := []struct {
		name  string
		usage Usage
		want  string
	}{
		{
			name:  "R1_names_channel_direction_destination_and_time",
			usage: Usage{Channel: "sms", Direction: "outbound", Destination: "+9991234567", Quantity: 1, At: march},
			want:  "no price for sms outbound to +9991234567 at 2026-03-10T08:00:00Z",
		},
		{
			name:  "R1_names_product",
			usage: Usage{Channel: "ott", Product: "rcs", Direction: "inbound", Destination: "+31612345678", Quantity: 1, At: march.In(time.FixedZone("CET", 3600))},
			want:  "no price for ott rcs inbound to +31612345678 at 2026-03-10T08:00:00Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tariffs.Rate(tc.usage)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRateConcurrent rates from several goroutines at once: a Tariffs is read-only after New
// (run with -race to make this test count).
func TestRateConcurrent(t *testing.T) {
	tariffs := testTariffs(t)
	done := make(chan error)
	for range 4 {
		go func() {
			for range 1000 {
				r, err := tariffs.Rate(Usage{Channel: "sms", Direction: "outbound", Destination: "+33612345678", Quantity: 1, At: march})
				if err == nil && !r.Total.Equal(decimal.RequireFromString("0.072")) {
					err = errors.New("total " + r.Total.String())
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
