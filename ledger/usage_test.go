package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ledger/ledger"
)

// omit, as a field value in usageJSON, leaves the field out of the event.
var omit = new(int)

// usageJSON is the CONTRACT 2 example event with fields replaced (or, with omit, left out).
func usageJSON(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	event := map[string]any{
		"id": "e-000123", "account": "acme", "channel": "sms", "destination": "+31612345678",
		"quantity": 2, "occurred_at": "2026-03-05T10:00:00Z",
	}
	for k, v := range fields {
		if v == omit {
			delete(event, k)
			continue
		}
		event[k] = v
	}
	raw, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// CONTRACT 2: what a usage event must look like; a malformed one is parked (R1), so the reason
// must say what is wrong, and the id comes back whenever the body names one.
func TestDecodeUsage(t *testing.T) {
	at := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	long := func(n int) string { return strings.Repeat("x", n) }
	type want struct {
		err     string // substring of the error; "" = valid
		id      string // the id DecodeUsage returns
		product string
		dir     string
		dest    string
		qty     int64
		at      time.Time
	}
	tests := []struct {
		name   string
		raw    []byte         // used when set
		fields map[string]any // else the example event with these fields
		want   want
	}{
		{name: "example_event_is_valid", fields: nil,
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},

		// id
		{name: "id_required_missing", fields: map[string]any{"id": omit}, want: want{err: "id is required"}},
		{name: "id_required_empty", fields: map[string]any{"id": ""}, want: want{err: "id is required"}},
		{name: "id_not_a_string", fields: map[string]any{"id": 123}, want: want{err: "id must be a string"}},
		{name: "id_of_128_characters_is_valid", fields: map[string]any{"id": long(128)},
			want: want{id: long(128), dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "id_of_128_non_ASCII_characters_is_valid", fields: map[string]any{"id": strings.Repeat("é", 128)},
			want: want{id: strings.Repeat("é", 128), dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "id_of_129_characters_is_malformed_and_returned", fields: map[string]any{"id": long(129)},
			want: want{err: "longer than 128", id: long(129)}},

		// account
		{name: "account_required", fields: map[string]any{"account": omit}, want: want{err: "account", id: "e-000123"}},
		{name: "account_not_a_string_is_malformed_and_id_returned", fields: map[string]any{"account": 42}, want: want{err: "account", id: "e-000123"}},
		{name: "account_single_character", fields: map[string]any{"account": "a"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "account_63_characters", fields: map[string]any{"account": "a" + strings.Repeat("-", 62)},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "account_64_characters", fields: map[string]any{"account": "a" + strings.Repeat("b", 63)}, want: want{err: "account", id: "e-000123"}},
		{name: "account_upper_case", fields: map[string]any{"account": "Acme"}, want: want{err: "account", id: "e-000123"}},
		{name: "account_leading_dash", fields: map[string]any{"account": "-acme"}, want: want{err: "account", id: "e-000123"}},
		{name: "account_leading_underscore", fields: map[string]any{"account": "_acme"}, want: want{err: "account", id: "e-000123"}},
		{name: "account_with_dot", fields: map[string]any{"account": "ac.me"}, want: want{err: "account", id: "e-000123"}},
		{name: "account_trailing_newline", fields: map[string]any{"account": "acme\n"}, want: want{err: "account", id: "e-000123"}},
		{name: "account_empty", fields: map[string]any{"account": ""}, want: want{err: "account", id: "e-000123"}},

		// channel
		{name: "channel_required", fields: map[string]any{"channel": omit}, want: want{err: "channel", id: "e-000123"}},
		{name: "channel_unknown_fax", fields: map[string]any{"channel": "fax"}, want: want{err: "channel", id: "e-000123"}},
		{name: "channel_upper_case", fields: map[string]any{"channel": "SMS"}, want: want{err: "channel", id: "e-000123"}},
		{name: "channel_mms", fields: map[string]any{"channel": "mms"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "channel_voice", fields: map[string]any{"channel": "voice", "quantity": 61, "caller_id": "+31201234567"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 61, at: at}},
		{name: "channel_push", fields: map[string]any{"channel": "push", "product": "apns"},
			want: want{id: "e-000123", product: "apns", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},

		// product
		{name: "product_required_for_ott", fields: map[string]any{"channel": "ott"}, want: want{err: "product is required", id: "e-000123"}},
		{name: "product_ott_whatsapp", fields: map[string]any{"channel": "ott", "product": "whatsapp"},
			want: want{id: "e-000123", product: "whatsapp", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "product_charset_digits_dash_underscore", fields: map[string]any{"channel": "ott", "product": "rcs_2-b"},
			want: want{id: "e-000123", product: "rcs_2-b", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "product_upper_case", fields: map[string]any{"channel": "ott", "product": "WhatsApp"}, want: want{err: "product", id: "e-000123"}},
		{name: "product_space", fields: map[string]any{"channel": "ott", "product": "whats app"}, want: want{err: "product", id: "e-000123"}},
		{name: "product_non_ascii", fields: map[string]any{"channel": "ott", "product": "wätsapp"}, want: want{err: "product", id: "e-000123"}},
		{name: "product_longer_than_64", fields: map[string]any{"channel": "ott", "product": strings.Repeat("p", 65)}, want: want{err: "product", id: "e-000123"}},

		// direction
		{name: "direction_default_outbound", fields: map[string]any{"direction": omit},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "direction_outbound", fields: map[string]any{"direction": "outbound"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "direction_inbound", fields: map[string]any{"direction": "inbound"},
			want: want{id: "e-000123", dir: "inbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "direction_invalid", fields: map[string]any{"direction": "sideways"}, want: want{err: "direction", id: "e-000123"}},
		{name: "direction_upper_case", fields: map[string]any{"direction": "INBOUND"}, want: want{err: "direction", id: "e-000123"}},

		// destination
		{name: "destination_required_for_sms", fields: map[string]any{"destination": omit}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_without_plus", fields: map[string]any{"destination": "31612345678"}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_plus_only", fields: map[string]any{"destination": "+"}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_leading_zero", fields: map[string]any{"destination": "+0612345678"}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_with_space", fields: map[string]any{"destination": "+31 612345678"}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_16_digits", fields: map[string]any{"destination": "+3161234567890123"}, want: want{err: "destination", id: "e-000123"}},
		{name: "destination_15_digits", fields: map[string]any{"destination": "+316123456789012"},
			want: want{id: "e-000123", dir: "outbound", dest: "+316123456789012", qty: 2, at: at}},
		{name: "destination_not_needed_for_professional_services",
			fields: map[string]any{"channel": "professional_services", "destination": omit, "quantity": 90},
			want:   want{id: "e-000123", dir: "outbound", qty: 90, at: at}},
		{name: "destination_professional_services_if_given_must_be_E164",
			fields: map[string]any{"channel": "professional_services", "destination": "office", "quantity": 90},
			want:   want{err: "destination", id: "e-000123"}},

		// quantity
		{name: "quantity_zero", fields: map[string]any{"quantity": 0},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 0, at: at}},
		{name: "quantity_max", fields: map[string]any{"quantity": ledger.MaxQuantity},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: ledger.MaxQuantity, at: at}},
		{name: "quantity_above_max", fields: map[string]any{"quantity": ledger.MaxQuantity + 1}, want: want{err: "quantity", id: "e-000123"}},
		{name: "quantity_fraction", raw: []byte(`{"id":"q1","account":"acme","channel":"sms","destination":"+31612345678","quantity":1.5,"occurred_at":"2026-03-05T10:00:00Z"}`),
			want: want{err: "quantity", id: "q1"}},
		{name: "quantity_negative", fields: map[string]any{"quantity": -1}, want: want{err: "quantity", id: "e-000123"}},
		{name: "quantity_string", fields: map[string]any{"quantity": "2"}, want: want{err: "quantity", id: "e-000123"}},
		{name: "quantity_missing", fields: map[string]any{"quantity": omit}, want: want{err: "quantity is required", id: "e-000123"}},
		{name: "quantity_null", fields: map[string]any{"quantity": nil}, want: want{err: "quantity is required", id: "e-000123"}},
		{name: "quantity_exponent", raw: []byte(`{"id":"q2","account":"acme","channel":"sms","destination":"+31612345678","quantity":2e0,"occurred_at":"2026-03-05T10:00:00Z"}`),
			want: want{err: "quantity", id: "q2"}},
		{name: "quantity_beyond_int64", raw: []byte(`{"id":"q3","account":"acme","channel":"sms","destination":"+31612345678","quantity":99999999999999999999,"occurred_at":"2026-03-05T10:00:00Z"}`),
			want: want{err: "quantity", id: "q3"}},

		// occurred_at
		{name: "occurred_at_required", fields: map[string]any{"occurred_at": omit}, want: want{err: "occurred_at", id: "e-000123"}},
		{name: "occurred_at_not_RFC3339", fields: map[string]any{"occurred_at": "yesterday"}, want: want{err: "occurred_at", id: "e-000123"}},
		{name: "occurred_at_date_only", fields: map[string]any{"occurred_at": "2026-03-05"}, want: want{err: "occurred_at", id: "e-000123"}},
		{name: "occurred_at_without_offset", fields: map[string]any{"occurred_at": "2026-03-05T10:00:00"}, want: want{err: "occurred_at", id: "e-000123"}},
		{name: "occurred_at_unix_seconds_is_malformed_and_id_returned", fields: map[string]any{"occurred_at": 1772704800}, want: want{err: "occurred_at", id: "e-000123"}},
		{name: "occurred_at_offset_normalised_to_UTC", fields: map[string]any{"occurred_at": "2026-03-05T11:00:00+01:00"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
		{name: "occurred_at_fraction_kept", fields: map[string]any{"occurred_at": "2026-03-05T10:00:00.123456789Z"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at.Add(123456789 * time.Nanosecond)}},

		// the body
		{name: "body_oversized", raw: []byte(`{"id":"big","pad":"` + long(ledger.MaxEventBytes) + `"}`), want: want{err: "limit"}},
		{name: "body_not_JSON", raw: []byte(`{"id":"m1",`), want: want{err: "not a JSON object"}},
		{name: "body_JSON_array", raw: []byte(`[1,2]`), want: want{err: "not a JSON object"}},
		{name: "body_empty", raw: []byte(``), want: want{err: "not a JSON object"}},
		{name: "body_null", raw: []byte(`null`), want: want{err: "not a JSON object"}},
		{name: "id_returned_when_everything_else_is_wrong", raw: []byte(`{"id":"only-id"}`), want: want{err: "account", id: "only-id"}},
		{name: "unknown_fields_ignored", fields: map[string]any{"tenant": "x"},
			want: want{id: "e-000123", dir: "outbound", dest: "+31612345678", qty: 2, at: at}},
	}
	for _, tc := range tests {
		t.Run("CONTRACT2_"+tc.name, func(t *testing.T) {
			raw := tc.raw
			if raw == nil {
				raw = usageJSON(t, tc.fields)
			}
			e, id, err := ledger.DecodeUsage(raw)
			if id != tc.want.id {
				t.Errorf("id = %q, want %q", id, tc.want.id)
			}
			if tc.want.err != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q (event %+v)", tc.want.err, e)
				}
				if !strings.Contains(err.Error(), tc.want.err) {
					t.Errorf("error %q does not contain %q", err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if e.ID != tc.want.id || e.Product != tc.want.product || e.Direction != tc.want.dir ||
				e.Destination != tc.want.dest || e.Quantity != tc.want.qty {
				t.Errorf("event = %+v, want id %q product %q direction %q destination %q quantity %d",
					e, tc.want.id, tc.want.product, tc.want.dir, tc.want.dest, tc.want.qty)
			}
			if !e.OccurredAt.Equal(tc.want.at) || e.OccurredAt.Location() != time.UTC {
				t.Errorf("occurred_at = %v (%v), want %v in UTC", e.OccurredAt, e.OccurredAt.Location(), tc.want.at)
			}
		})
	}
}

// R1: each event is charged exactly once, recognised by id and content; a copy of the same event
// written differently is the same event, any change of content is another event.
func TestContentHash(t *testing.T) {
	decode := func(t *testing.T, raw string) ledger.UsageEvent {
		t.Helper()
		e, _, err := ledger.DecodeUsage([]byte(raw))
		if err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		return e
	}
	const original = `{"id":"e-1","account":"acme","channel":"voice","destination":"+31612345678","quantity":61,"caller_id":"+31201234567","occurred_at":"2026-03-10T08:00:00Z"}`
	base := decode(t, original).ContentHash()

	same := map[string]string{
		"R1_same_event_same_hash":                original,
		"R1_field_order_does_not_matter":         `{"occurred_at":"2026-03-10T08:00:00Z","caller_id":"+31201234567","quantity":61,"destination":"+31612345678","channel":"voice","account":"acme","id":"e-1"}`,
		"R1_explicit_default_direction_outbound": `{"id":"e-1","account":"acme","channel":"voice","direction":"outbound","destination":"+31612345678","quantity":61,"caller_id":"+31201234567","occurred_at":"2026-03-10T08:00:00Z"}`,
		"R1_offset_naming_the_same_instant":      `{"id":"e-1","account":"acme","channel":"voice","destination":"+31612345678","quantity":61,"caller_id":"+31201234567","occurred_at":"2026-03-10T09:00:00+01:00"}`,
		"R1_zero_fraction_of_a_second":           `{"id":"e-1","account":"acme","channel":"voice","destination":"+31612345678","quantity":61,"caller_id":"+31201234567","occurred_at":"2026-03-10T08:00:00.000Z"}`,
		"R1_whitespace_and_unknown_field":        "{ \"id\" : \"e-1\",\n \"account\":\"acme\", \"channel\":\"voice\", \"destination\":\"+31612345678\", \"quantity\": 61, \"caller_id\":\"+31201234567\", \"occurred_at\":\"2026-03-10T08:00:00Z\", \"trace\":\"abc\" }",
	}
	for name, raw := range same {
		t.Run(name, func(t *testing.T) {
			if got := decode(t, raw).ContentHash(); got != base {
				t.Errorf("hash %d, want %d (the same event)", got, base)
			}
		})
	}

	changed := map[string]func(e *ledger.UsageEvent){
		"R1_other_id":          func(e *ledger.UsageEvent) { e.ID = "e-2" },
		"R1_other_account":     func(e *ledger.UsageEvent) { e.Account = "beta" },
		"R1_other_channel":     func(e *ledger.UsageEvent) { e.Channel = "sms" },
		"R1_other_product":     func(e *ledger.UsageEvent) { e.Product = "x" },
		"R1_other_direction":   func(e *ledger.UsageEvent) { e.Direction = "inbound" },
		"R1_other_destination": func(e *ledger.UsageEvent) { e.Destination = "+31612345679" },
		"R1_other_quantity":    func(e *ledger.UsageEvent) { e.Quantity = 62 },
		"R1_other_caller_id":   func(e *ledger.UsageEvent) { e.CallerID = "" },
		"R1_other_occurred_at": func(e *ledger.UsageEvent) { e.OccurredAt = e.OccurredAt.Add(time.Nanosecond) },
		// Fields are length-prefixed: moving a character from one field to the next is a change.
		"R1_field_boundary_moved": func(e *ledger.UsageEvent) { e.ID, e.Account = "e-1a", "cme" },
	}
	for name, change := range changed {
		t.Run(name, func(t *testing.T) {
			e := decode(t, original)
			change(&e)
			if got := e.ContentHash(); got == base {
				t.Errorf("hash unchanged (%d) after the change: %+v", got, e)
			}
		})
	}

	// The hash keeps seconds and nanoseconds apart, so that two instants 2^64 ns (about 584
	// years) apart differ; DecodeUsage refuses the later one (outside 2000–2099) anyway.
	t.Run("R1_occurred_at_2pow64_nanoseconds_later_is_other_content", func(t *testing.T) {
		e := decode(t, original)
		e.OccurredAt = time.Date(2610, 9, 29, 7, 34, 33, 709551616, time.UTC)
		if got := e.ContentHash(); got == base {
			t.Errorf("hash unchanged (%d) for occurred_at 2610-09-29T07:34:33.709551616Z", got)
		}
	})
	for _, at := range []string{"0000-01-01T00:00:00+23:59", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"} {
		t.Run("occurred_at_outside_the_window_is_malformed_"+at, func(t *testing.T) {
			raw := strings.Replace(original, "2026-03-10T08:00:00Z", at, 1)
			if _, _, err := ledger.DecodeUsage([]byte(raw)); err == nil || !strings.Contains(err.Error(), "outside the instants") {
				t.Errorf("occurred_at %s: %v, want it refused as outside the window", at, err)
			}
		})
	}
	t.Run("R1_hash_fits_a_signed_SQL_integer", func(t *testing.T) {
		if int64(base) < 0 {
			t.Errorf("hash %d does not fit 63 bits", base)
		}
		if h := ledger.RawHash([]byte(original)); int64(h) < 0 {
			t.Errorf("raw hash %d does not fit 63 bits", h)
		}
	})
}

// CONTRACT 2: a destination is an E.164 number, "+" and up to 15 digits, the first not 0.
func TestValidE164(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+31612345678", true},
		{"+1", true},
		{"+316123456789012", true},   // 15 digits
		{"+3161234567890123", false}, // 16 digits
		{"", false},
		{"+", false},
		{"31612345678", false},
		{"+0612345678", false},
		{"++31612345678", false},
		{"+31 612345678", false},
		{"+31-612345678", false},
		{"+3161234567a", false},
		{"+٣١٦١٢٣٤٥٦٧٨", false}, // Arabic-Indic digits are not E.164 digits
		{" +31612345678", false},
		{"+31612345678\n", false},
	}
	for _, tc := range tests {
		if got := ledger.ValidE164(tc.in); got != tc.want {
			t.Errorf("ValidE164(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Issue 14: an absurd quantity (10^9 SMS parts, 4·10^12 seconds) is malformed, not a bill.
func TestDecodeUsage_absurd_quantities(t *testing.T) {
	for _, q := range []string{"1000000000", "4000000000000", "100000001"} {
		raw := `{"id":"e-1","account":"acme","channel":"sms","destination":"+31612345678","quantity":` + q + `,"occurred_at":"2026-03-10T08:00:00Z"}`
		if _, _, err := ledger.DecodeUsage([]byte(raw)); err == nil || !strings.Contains(err.Error(), "quantity") {
			t.Errorf("quantity %s: %v, want it refused", q, err)
		}
	}
}
