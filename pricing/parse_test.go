package pricing

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/clock"

	"github.com/shopspring/decimal"
)

const priceHeader = "channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n"
const surchargeHeader = "channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // prices.csv, surcharges.csv, cpi.csv or interest.csv
		text string
		want string
	}{
		{
			name: "CONTRACT4_unit_price_not_decimal_after_blank_line",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,2026-01-01,SMS NL\n\nsms,,outbound,32,BE,0.0x7,,,2026-01-01,SMS BE\n",
			want: `prices.csv:4:6 (unit_price): "0.0x7" is not a decimal amount`,
		},
		{
			name: "CONTRACT4_unit_price_negative",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,-0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:6 (unit_price): unit price -0.075 is negative`,
		},
		{
			name: "CONTRACT4_unit_price_missing",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:6 (unit_price): empty amount`,
		},
		{
			name: "CONTRACT4_unknown_channel",
			file: "prices.csv",
			text: priceHeader + "fax,,outbound,31,NL,0.075,,,2026-01-01,Fax NL\n",
			want: `prices.csv:2:1 (channel): "fax" is not a channel (sms, mms, voice, ott, push, professional_services)`,
		},
		{
			name: "CONTRACT4_price_channel_required",
			file: "prices.csv",
			text: priceHeader + ",,outbound,31,NL,0.075,,,2026-01-01,Any NL\n",
			want: `prices.csv:2:1 (channel): a channel is required`,
		},
		{
			name: "CONTRACT4_product_upper_case",
			file: "prices.csv",
			text: priceHeader + "ott,WhatsApp,,,,0.005,,,2026-01-01,WhatsApp\n",
			want: `prices.csv:2:2 (product): "WhatsApp" is not a product name (lower-case letters, digits, _ and -)`,
		},
		{
			name: "CONTRACT4_unknown_direction",
			file: "prices.csv",
			text: priceHeader + "sms,,both,31,NL,0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:3 (direction): "both" is not a direction (outbound, inbound, or empty for both)`,
		},
		{
			name: "CONTRACT4_prefix_not_digits",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31a,NL,0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:4 (prefix): prefix "31a" is not digits only`,
		},
		{
			name: "CONTRACT4_prefix_longer_than_E164",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,3161234567890123,NL,0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:4 (prefix): prefix "3161234567890123" is longer than 15 digits`,
		},
		{
			name: "CONTRACT4_prefix_plus_alone",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,+,NL,0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:4 (prefix): "+" is not a prefix: leave it empty for any destination`,
		},
		{
			name: "CONTRACT4_country_lower_case",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,nl,0.075,,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:5 (country): "nl" is not a country code (two upper-case letters, e.g. NL)`,
		},
		{
			name: "R2_min_seconds_on_sms",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,60,,2026-01-01,SMS NL\n",
			want: `prices.csv:2:7 (min_seconds): min_seconds is for voice only, not sms`,
		},
		{
			name: "R2_increment_seconds_on_ott",
			file: "prices.csv",
			text: priceHeader + "ott,whatsapp,,,,0.005,,1,2026-01-01,WhatsApp\n",
			want: `prices.csv:2:8 (increment_seconds): increment_seconds is for voice only, not ott`,
		},
		{
			name: "R2_increment_zero",
			file: "prices.csv",
			text: priceHeader + "voice,,outbound,31,NL,0.03,0,0,2026-01-01,Voice NL\n",
			want: `prices.csv:2:8 (increment_seconds): 0 is not between 1 and 86400 seconds`,
		},
		{
			name: "R2_min_seconds_negative",
			file: "prices.csv",
			text: priceHeader + "voice,,outbound,31,NL,0.03,-1,1,2026-01-01,Voice NL\n",
			want: `prices.csv:2:7 (min_seconds): -1 is not between 0 and 86400 seconds`,
		},
		{
			name: "R2_min_seconds_fraction",
			file: "prices.csv",
			text: priceHeader + "voice,,outbound,31,NL,0.03,1.5,1,2026-01-01,Voice NL\n",
			want: `prices.csv:2:7 (min_seconds): "1.5" is not a whole number of seconds`,
		},
		{
			name: "R1_valid_from_required",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,,SMS NL\n",
			want: `prices.csv:2:9 (valid_from): a date YYYY-MM-DD is required`,
		},
		{
			name: "R1_valid_from_not_a_date",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,2026-02-30,SMS NL\n",
			want: `prices.csv:2:9 (valid_from): "2026-02-30" is not a date YYYY-MM-DD`,
		},
		{
			name: "R1_valid_from_year_zero",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,0000-01-01,SMS NL\n",
			want: `prices.csv:2:9 (valid_from): valid_from 0000-01-01 is not a calendar date in the years 1 to 9999`,
		},
		{
			name: "R1_same_key_same_valid_from_names_both_lines",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,2026-01-01,SMS NL\nsms,,outbound,32,BE,0.072,,,2026-01-01,SMS BE\nsms,,outbound,+31,NL,0.080,,,2026-01-01,SMS NL again\n",
			want: `prices.csv:4: same key (sms,,outbound,31) and valid_from 2026-01-01 as line 2`,
		},
		{
			name: "CONTRACT4_unknown_columns_named",
			file: "prices.csv",
			text: "channel,colour,prefix,unit_price,valid_from,size\nsms,red,31,0.075,2026-01-01,1\n",
			want: `prices.csv:1: unknown column(s) "colour", "size"; the columns are channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description`,
		},
		{
			name: "CONTRACT4_required_column_missing",
			file: "prices.csv",
			text: "channel,prefix,valid_from\nsms,31,2026-01-01\n",
			want: `prices.csv:1: missing column(s) "unit_price"`,
		},
		{
			name: "CONTRACT4_column_twice",
			file: "prices.csv",
			text: "channel,prefix,unit_price,valid_from,prefix\n",
			want: `prices.csv:1: column "prefix" appears twice`,
		},
		{
			name: "CONTRACT4_row_with_too_few_fields",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075\n",
			want: `prices.csv:2: 6 fields, the header has 10`,
		},
		{
			name: "CONTRACT4_csv_syntax",
			file: "prices.csv",
			text: priceHeader + "sms,,outbound,31,NL,0.075,,,2026-01-01,SMS \"NL\"\n",
			want: `prices.csv:2: bare " in non-quoted-field (byte 44 of the line)`,
		},
		{
			name: "CONTRACT4_empty_file",
			file: "prices.csv",
			text: "\n\n",
			want: `prices.csv: empty: a header row (channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description) is expected`,
		},
		{
			name: "T&C3.3_applies_to_unknown",
			file: "surcharges.csv",
			text: surchargeHeader + "sms,,outbound,33,FR,0.01,sometimes,2026-01-01,French operator surcharge\n",
			want: `surcharges.csv:2:7 (applies_to): "sometimes" is not an applies_to (all, invalid_caller_id)`,
		},
		{
			name: "SST6.3_invalid_caller_id_only_for_voice",
			file: "surcharges.csv",
			text: surchargeHeader + "sms,,,,,0.05,invalid_caller_id,2026-01-01,Caller ID on SMS\n",
			want: `surcharges.csv:2:7 (applies_to): applies_to invalid_caller_id is for voice only (SST 6.3), not sms`,
		},
		{
			name: "T&C3.3_same_key_same_valid_from_names_both_lines",
			file: "surcharges.csv",
			text: surchargeHeader + ",,,33,FR,0.01,all,2026-01-01,French levy\n,,,33,FR,0.02,all,2026-01-01,French levy again\n",
			want: `surcharges.csv:3: same key (,,,33,all) and valid_from 2026-01-01 as line 2`,
		},
		{
			name: "R3_cpi_year_not_a_number",
			file: "cpi.csv",
			text: "year,change\n2024,0.033\n20x5,0.033\n",
			want: `cpi.csv:3:1 (year): "20x5" is not a year`,
		},
		{
			name: "R3_cpi_change_not_decimal",
			file: "cpi.csv",
			text: "year,change\n2024,3.3%\n",
			want: `cpi.csv:2:2 (change): "3.3%" is not a decimal amount`,
		},
		{
			name: "R3_cpi_change_as_percentage",
			file: "cpi.csv",
			text: "year,change\n2024,3.3\n",
			want: `cpi.csv:2:2 (change): change 3.3 is not between -1 and 1: a fraction is expected (0.033 for 3.3 %)`,
		},
		{
			name: "R3_cpi_year_twice",
			file: "cpi.csv",
			text: "change,year\n0.038,2023\n0.033,2024\n0.034,2023\n",
			want: `cpi.csv:4: year 2023 appears again (first on line 2)`,
		},
		{
			name: "R6_interest_date",
			file: "interest.csv",
			text: "valid_from,annual_rate\n2026-13-01,0.1015\n",
			want: `interest.csv:2:1 (valid_from): "2026-13-01" is not a date YYYY-MM-DD`,
		},
		{
			name: "R6_interest_negative",
			file: "interest.csv",
			text: "valid_from,annual_rate\n2026-01-01,-0.01\n",
			want: `interest.csv:2:2 (annual_rate): annual_rate -0.01 is not between 0 and 1: a fraction is expected (0.033 for 3.3 %)`,
		},
		{
			name: "R6_interest_date_twice",
			file: "interest.csv",
			text: "valid_from,annual_rate\n2025-07-01,0.1015\n2026-01-01,0.1015\n2025-07-01,0.1015\n",
			want: `interest.csv:4: valid_from 2025-07-01 appears again (first on line 2)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parseAny(tc.file, tc.text)
			if err == nil {
				t.Fatalf("parsed without error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n  %s\nwant\n  %s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidTariff) {
				t.Errorf("error does not wrap ErrInvalidTariff")
			}
		})
	}
}

func parseAny(file, text string) error {
	var err error
	switch file {
	case "prices.csv":
		_, err = ParsePrices(file, strings.NewReader(text))
	case "surcharges.csv":
		_, err = ParseSurcharges(file, strings.NewReader(text))
	case "cpi.csv":
		_, err = ParseCPI(file, strings.NewReader(text))
	case "interest.csv":
		_, err = ParseInterest(file, strings.NewReader(text))
	default:
		panic(file)
	}
	return err
}

func TestParsePrices(t *testing.T) {
	t.Run("CONTRACT4_columns_in_any_order_optional_ones_absent", func(t *testing.T) {
		text := "\ufeffValid_From, unit_price ,prefix,channel,increment_seconds\n" +
			"2026-01-01,0.12,+316,voice,60\n" +
			"   \n" +
			"2026-01-01,0.075,31,sms,\n"
		rows, err := ParsePrices("prices.csv", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		want := []PriceRow{
			{Channel: "voice", Prefix: "316", UnitPrice: decimal.RequireFromString("0.12"), MinSeconds: 0, IncrementSeconds: 60,
				ValidFrom: clock.LocalDate{Year: 2026, Month: time.January, Day: 1}, Line: 2},
			{Channel: "sms", Prefix: "31", UnitPrice: decimal.RequireFromString("0.075"), MinSeconds: 0, IncrementSeconds: 1,
				ValidFrom: clock.LocalDate{Year: 2026, Month: time.January, Day: 1}, Line: 4},
		}
		if len(rows) != len(want) {
			t.Fatalf("got %d rows, want %d", len(rows), len(want))
		}
		for i := range want {
			got := rows[i]
			if !got.UnitPrice.Equal(want[i].UnitPrice) {
				t.Errorf("row %d: unit price %s, want %s", i, got.UnitPrice, want[i].UnitPrice)
			}
			got.UnitPrice, want[i].UnitPrice = decimal.Zero, decimal.Zero
			if got != want[i] {
				t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
			}
		}
	})
	t.Run("R3_cpi_negative_change_accepted", func(t *testing.T) {
		rows, err := ParseCPI("cpi.csv", strings.NewReader("year,change\n2024,0.033\n2015,-0.006\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1].Year != 2015 || !rows[1].Change.Equal(decimal.RequireFromString("-0.006")) {
			t.Fatalf("got %+v", rows)
		}
	})
}

func TestNew(t *testing.T) {
	jan := clock.LocalDate{Year: 2026, Month: time.January, Day: 1}
	price := func(line int, prefix string, validFrom clock.LocalDate) PriceRow {
		return PriceRow{Channel: "sms", Direction: "outbound", Prefix: prefix, Country: "NL",
			UnitPrice: decimal.RequireFromString("0.075"), ValidFrom: validFrom, Line: line}
	}
	t.Run("R1_same_key_same_valid_from_in_memory", func(t *testing.T) {
		_, err := New([]PriceRow{price(3, "31", jan), price(5, "32", jan), price(7, "31", jan)}, nil, nil, nil)
		want := "invalid tariff: prices: lines 3 and 7: same key (sms,,outbound,31) and valid_from 2026-01-01"
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidTariff) {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("R2_zero_increment_means_one", func(t *testing.T) {
		row := price(0, "31", jan)
		row.Channel = "voice"
		tariffs, err := New([]PriceRow{row}, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tariffs.Rate(Usage{Channel: "voice", Direction: "outbound", Destination: "+31201234567", Quantity: 7, CallerID: "+31201234567", At: march})
		if err != nil || r.BilledQuantity != 7 {
			t.Fatalf("rating %+v, %v; want 7 billed seconds", r, err)
		}
	})
	t.Run("R2_rows_in_memory_are_checked", func(t *testing.T) {
		row := price(9, "31", jan)
		row.MinSeconds = 60
		_, err := New([]PriceRow{row}, nil, nil, nil)
		want := "invalid tariff: price row (line 9): min_seconds and increment_seconds are for voice only, not sms"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
}

// listPrices are the list's rows in force at `at` (PricesInForce without terms).
func listPrices(t *testing.T, tariffs *Tariffs, at time.Time) []PriceRow {
	t.Helper()
	prices, err := tariffs.PricesInForce(at, Terms{})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]PriceRow, len(prices))
	for i, p := range prices {
		rows[i] = p.PriceRow
	}
	return rows
}

func TestPricesInForceOfTheList(t *testing.T) {
	tariffs := testTariffs(t)
	key := func(r PriceRow) string {
		return strings.Join([]string{r.Channel, r.Product, r.Direction, r.Prefix, r.UnitPrice.String()}, ",")
	}
	t.Run("R1_versions_in_force_sorted_by_key", func(t *testing.T) {
		var got []string
		for _, r := range listPrices(t, tariffs, at("2026-03-31T21:59:59Z")) {
			if r.Channel == "sms" {
				got = append(got, key(r))
			}
		}
		want := []string{"sms,,inbound,,0.005", "sms,,outbound,31,0.075", "sms,,outbound,32,0.072", "sms,,outbound,33,0.068", "sms,,outbound,49,0.079"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("got\n  %v\nwant\n  %v", got, want)
		}
	})
	t.Run("R1_newer_versions_and_new_keys_from_amsterdam_midnight", func(t *testing.T) {
		var got []string
		for _, r := range listPrices(t, tariffs, at("2026-03-31T22:00:00Z")) {
			if r.Channel == "sms" {
				got = append(got, key(r))
			}
		}
		want := []string{"sms,,inbound,,0.005", "sms,,outbound,31,0.075", "sms,,outbound,32,0.072", "sms,,outbound,3247,0.09", "sms,,outbound,33,0.068", "sms,,outbound,49,0.085"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("got\n  %v\nwant\n  %v", got, want)
		}
	})
	t.Run("R1_nothing_before_the_first_valid_from", func(t *testing.T) {
		if got := listPrices(t, tariffs, at("2025-12-31T22:59:59Z")); len(got) != 0 {
			t.Fatalf("got %d prices, want none", len(got))
		}
	})
	t.Run("T&C3.3_surcharges_in_force", func(t *testing.T) {
		var got []string
		for _, r := range tariffs.SurchargesAt(at("2026-07-01T00:00:00Z")) {
			got = append(got, r.Channel+","+r.Prefix+","+r.AppliesTo)
		}
		want := []string{",336,all", ",33,all", "sms,31,all", "sms,33,all", "voice,,invalid_caller_id"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("got\n  %v\nwant\n  %v", got, want)
		}
	})
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	t.Run("CONTRACT4_cpi_and_interest_optional", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"prices.csv":     priceHeader + "sms,,outbound,31,NL,0.075,,,2026-01-01,SMS NL\n",
			"surcharges.csv": surchargeHeader,
		})
		tariffs, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(tariffs.CPI()) != 0 || len(tariffs.Interest()) != 0 {
			t.Fatalf("cpi %v interest %v, want none", tariffs.CPI(), tariffs.Interest())
		}
		r, err := tariffs.Rate(Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 2, At: march})
		if err != nil || r.Total.StringFixed(6) != "0.150000" {
			t.Fatalf("rating %+v, %v", r, err)
		}
	})
	t.Run("CONTRACT4_cpi_and_interest_sorted", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"prices.csv":     priceHeader,
			"surcharges.csv": surchargeHeader,
			"cpi.csv":        "year,change\n2025,0.033\n2024,0.033\n",
			"interest.csv":   "valid_from,annual_rate\n2026-01-01,0.1015\n2025-07-01,0.1015\n",
		})
		tariffs, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if cpi := tariffs.CPI(); len(cpi) != 2 || cpi[0].Year != 2024 {
			t.Fatalf("cpi %v", cpi)
		}
		if interest := tariffs.Interest(); len(interest) != 2 || interest[0].ValidFrom.String() != "2025-07-01" {
			t.Fatalf("interest %v", interest)
		}
	})
	t.Run("CONTRACT4_prices_required", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"surcharges.csv": surchargeHeader})
		_, err := Load(dir)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "prices.csv") {
			t.Fatalf("error %v, want prices.csv not found", err)
		}
	})
	t.Run("CONTRACT4_surcharges_required", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"prices.csv": priceHeader})
		_, err := Load(dir)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "surcharges.csv") {
			t.Fatalf("error %v, want surcharges.csv not found", err)
		}
	})
	t.Run("CONTRACT4_error_names_path_line_column", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"prices.csv":     priceHeader,
			"surcharges.csv": surchargeHeader,
			"interest.csv":   "valid_from,annual_rate\n2026-01-01,10.15\n",
		})
		_, err := Load(dir)
		want := filepath.Join(dir, "interest.csv") + ":2:2 (annual_rate): annual_rate 10.15 is not between 0 and 1: a fraction is expected (0.033 for 3.3 %)"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
	t.Run("CONTRACT4_file_larger_than_limit", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"surcharges.csv": surchargeHeader})
		f, err := os.Create(filepath.Join(dir, "prices.csv"))
		if err != nil {
			t.Fatal(err)
		}
		// A sparse file: MaxFileBytes+1 bytes of which only the header is written.
		if _, err := f.WriteString(priceHeader); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxFileBytes + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
		_, err = Load(dir)
		if err == nil || !strings.HasSuffix(err.Error(), "prices.csv: larger than 67108864 bytes") {
			t.Fatalf("error %v, want larger than %d bytes", err, MaxFileBytes)
		}
	})
}

// TestExampleTariffs loads the tariff set a newcomer's `make run` uses and rates a few events
// against it, so that the shipped files stay valid and sensible.
func TestExampleTariffs(t *testing.T) {
	tariffs, err := Load(filepath.Join("..", "tariffs", "example"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		usage Usage
		total string
		lines int
	}{
		{"R2_sms_netherlands", Usage{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: 2, At: march}, "0.150000", 1},
		{"T&C3.3_sms_france_with_operator_surcharge", Usage{Channel: "sms", Direction: "outbound", Destination: "+33612345678", Quantity: 1, At: march}, "0.078000", 2},
		{"R2_voice_nl_mobile", Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, CallerID: "+31201234567", At: march}, "0.240000", 1},
		{"SST6.3_voice_without_caller_id", Usage{Channel: "voice", Direction: "outbound", Destination: "+31612345678", Quantity: 61, At: march}, "0.340000", 2},
		{"R2_voice_germany_mobile", Usage{Channel: "voice", Direction: "outbound", Destination: "+4917612345678", Quantity: 90, CallerID: "+31201234567", At: march}, "0.240000", 1},
		{"R1_sms_inbound", Usage{Channel: "sms", Direction: "inbound", Destination: "+31612345678", Quantity: 1, At: march}, "0.005000", 1},
		{"R2_whatsapp", Usage{Channel: "ott", Product: "whatsapp", Direction: "outbound", Destination: "+34612345678", Quantity: 4, At: march}, "0.020000", 1},
		{"R2_push", Usage{Channel: "push", Direction: "outbound", Destination: "+15551234567", Quantity: 1000, At: march}, "0.100000", 1},
		{"SST9.1_consultancy", Usage{Channel: "professional_services", Direction: "outbound", Quantity: 150, At: march}, "300.000000", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tariffs.Rate(tc.usage)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total.StringFixed(6) != tc.total || len(r.Charges) != tc.lines {
				t.Fatalf("total %s in %d charges, want %s in %d", r.Total.StringFixed(6), len(r.Charges), tc.total, tc.lines)
			}
		})
	}
	t.Run("R3_cpi_reference_figures", func(t *testing.T) {
		cpi := tariffs.CPI()
		// 2019–2025 published, 2026 the example figure (2 %) that keeps the example set charging in 2027.
		if len(cpi) != 8 || cpi[0].Year != 2019 || cpi[6].Year != 2025 || !cpi[3].Change.Equal(decimal.RequireFromString("0.10")) ||
			cpi[7].Year != 2026 || !cpi[7].Change.Equal(decimal.RequireFromString("0.02")) {
			t.Fatalf("cpi %v", cpi)
		}
	})
	t.Run("R6_interest_reference_figures", func(t *testing.T) {
		interest := tariffs.Interest()
		if len(interest) != 7 || interest[6].ValidFrom.String() != "2026-01-01" || !interest[6].AnnualRate.Equal(decimal.RequireFromString("0.1015")) {
			t.Fatalf("interest %v", interest)
		}
	})
	t.Run("CONTRACT4_every_example_price_valid_from_2026", func(t *testing.T) {
		prices := listPrices(t, tariffs, at("2026-01-01T00:00:00Z"))
		if len(prices) == 0 {
			t.Fatal("no prices in force on 2026-01-01")
		}
		if early := listPrices(t, tariffs, at("2025-12-31T22:59:59Z")); len(early) != 0 {
			t.Fatalf("%d prices in force before 2026-01-01", len(early))
		}
	})
}
