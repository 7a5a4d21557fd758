package pricing

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
)

// A price list, CPI and agreement for the tests of indexation (R3), agreements (T&C 2.7) and
// professional services (SST 9.1). Amounts in the tests are worked out by hand from these.
const termsPrices = `channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.075,,,2024-06-01,SMS Netherlands
sms,,outbound,31,NL,0.080,,,2026-01-01,SMS Netherlands
sms,,outbound,3197,NL,0.060,,,2024-06-01,SMS Netherlands M2M
sms,,outbound,32,BE,0.072,,,2024-06-01,SMS Belgium
sms,,outbound,33,FR,0.068,,,2026-01-01,SMS France
voice,,outbound,316,NL,0.12,60,60,2025-01-01,Voice NL mobile
professional_services,,,,,120,,,2026-01-01,Consultancy per hour
professional_services,overtime,,,,180,,,2026-01-01,Consultancy per hour outside working time
`

const termsSurcharges = `channel,product,direction,prefix,country,unit_price,applies_to,valid_from,description
sms,,outbound,33,FR,0.01,all,2026-01-01,French operator surcharge
`

// CPI 2024 3.3 % (applied 1 January 2025), 2025 4.1 % (2026), 2026 2 % (2027); 2027 missing.
var termsCPI = []CPIRow{
	{Year: 2024, Change: decimal.RequireFromString("0.033")},
	{Year: 2025, Change: decimal.RequireFromString("0.041")},
	{Year: 2026, Change: decimal.RequireFromString("0.02")},
}

func termsTariffs(t testing.TB) *Tariffs {
	t.Helper()
	prices, err := ParsePrices("prices.csv", strings.NewReader(termsPrices))
	if err != nil {
		t.Fatal(err)
	}
	surcharges, err := ParseSurcharges("surcharges.csv", strings.NewReader(termsSurcharges))
	if err != nil {
		t.Fatal(err)
	}
	tariffs, err := New(prices, surcharges, termsCPI, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tariffs
}

func agreement(t testing.TB, tariffs *Tariffs, csv string) *Agreement {
	t.Helper()
	rows, err := ParsePrices("agreement.csv", strings.NewReader("channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description\n"+csv))
	if err != nil {
		t.Fatal(err)
	}
	a, err := tariffs.NewAgreement(rows)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// local is a wall-clock time "YYYY-MM-DD hh:mm" in Europe/Amsterdam.
func local(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, clock.Amsterdam)
	if err != nil {
		panic(err)
	}
	return t
}

// rateCase is one event and the charges it must give: "unit price × quantity = amount" per
// charge, in order, or the error it must give.
type rateCase struct {
	name    string
	u       Usage
	charges []wantTermsCharge
	err     error
}

type wantTermsCharge struct {
	kind, product, unitPrice string
	quantity                 int64
	amount                   string
}

func runRateCases(t *testing.T, tariffs *Tariffs, cases []rateCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.u.Direction == "" {
				c.u.Direction = DirectionOutbound
			}
			compareRate(t, tariffs, c.u) // Rate, rateFast and rateDecimal agree, errors too
			r, err := tariffs.Rate(c.u)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Charges) != len(c.charges) {
				t.Fatalf("charges %+v, want %d", r.Charges, len(c.charges))
			}
			total := decimal.Zero
			for i, w := range c.charges {
				g := r.Charges[i]
				if g.Kind != w.kind || g.Product != w.product || !g.UnitPrice.Equal(decimal.RequireFromString(w.unitPrice)) ||
					g.Quantity != w.quantity || !g.Amount.Equal(decimal.RequireFromString(w.amount)) {
					t.Errorf("charge %d: %s %q %s × %d = %s, want %s %q %s × %d = %s", i, g.Kind, g.Product, g.UnitPrice, g.Quantity, g.Amount,
						w.kind, w.product, w.unitPrice, w.quantity, w.amount)
				}
				total = total.Add(decimal.RequireFromString(w.amount))
			}
			if !r.Total.Equal(total) {
				t.Errorf("total %s, want %s", r.Total, total)
			}
		})
	}
}

func sms(to string, parts int64, at time.Time) Usage {
	return Usage{Channel: ChannelSMS, Destination: to, Quantity: parts, At: at}
}

func charge(kind, product, unit string, quantity int64, amount string) wantTermsCharge {
	return wantTermsCharge{kind, product, unit, quantity, amount}
}

// R3, T&C 3.4 in rating: every 1 January (Amsterdam) a price valid before it is multiplied by
// 1 + the previous year's CPI change, rounded to 6 decimals, compounding; a price valid from
// 1 January is a new base; a missing CPI change is an error, never 0 %.
func TestRateIndexation(t *testing.T) {
	tariffs := termsTariffs(t)
	unindexed := Terms{NoIndexation: true}
	optedOut := func(u Usage) Usage { u.Terms = unindexed; return u }
	runRateCases(t, tariffs, []rateCase{
		{"R3_last_minute_before_the_first_indexation", sms("+31612345678", 1, local("2024-12-31 23:59")),
			[]wantTermsCharge{charge(KindUsage, "", "0.075", 1, "0.075")}, nil},
		// 0.075 × 1.033 = 0.077475
		{"R3_indexed_from_midnight_Amsterdam_on_1_January", sms("+31612345678", 2, local("2025-01-01 00:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.077475", 2, "0.15495")}, nil},
		{"R3_price_taking_effect_on_1_January_is_a_new_base", sms("+31612345678", 1, local("2026-03-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.080", 1, "0.08")}, nil},
		// 0.080 × 1.02 = 0.0816
		{"R3_new_base_indexed_a_year_later", sms("+31612345678", 1, local("2027-02-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.0816", 1, "0.0816")}, nil},
		// 2025: 0.072 × 1.033 = 0.074376; 2026: × 1.041 = 0.077425416 → 0.077425;
		// 2027: × 1.02 = 0.0789735 → 0.078974 (rounded each year, half away from zero)
		{"R3_compounds_with_the_rate_of_each_year_2025", sms("+3247012345", 1, local("2025-06-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.074376", 1, "0.074376")}, nil},
		{"R3_compounds_with_the_rate_of_each_year_2026", sms("+3247012345", 1, local("2026-06-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.077425", 1, "0.077425")}, nil},
		{"R3_compounds_with_the_rate_of_each_year_2027", sms("+3247012345", 3, local("2027-06-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.078974", 3, "0.236922")}, nil},
		// voice 0.12 from 2025-01-01: 2026 × 1.041 = 0.12492 per minute; 61 s bill 120 s.
		{"R3_voice_per_minute_price_indexed", Usage{Channel: ChannelVoice, Destination: "+31612345678", Quantity: 61, CallerID: "+31201234567", At: local("2026-03-10 09:00")},
			[]wantTermsCharge{charge(KindUsage, "", "0.12492", 120, "0.24984")}, nil},
		// Surcharges are operator fees passed on (T&C 3.3), not indexed: the FR price is a 2026 base.
		{"R3_surcharges_not_indexed", sms("+33612345678", 1, local("2027-03-01 12:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.06936", 1, "0.06936"), charge(KindSurcharge, "", "0.01", 1, "0.01")}, nil},
		{"R3_missing_CPI_2027_is_an_error_in_2028", sms("+31612345678", 1, local("2028-01-01 00:00")), nil, ErrMissingCPI},
		{"R3_missing_CPI_not_due_before_2028", sms("+31612345678", 1, local("2027-12-31 23:59")),
			[]wantTermsCharge{charge(KindUsage, "", "0.0816", 1, "0.0816")}, nil},
		{"T&C_3.4_opted_out_account_pays_the_listed_price", optedOut(sms("+3247012345", 1, local("2027-06-01 12:00"))),
			[]wantTermsCharge{charge(KindUsage, "", "0.072", 1, "0.072")}, nil},
		{"T&C_3.4_opted_out_account_needs_no_CPI", optedOut(sms("+31612345678", 1, local("2028-06-01 12:00"))),
			[]wantTermsCharge{charge(KindUsage, "", "0.080", 1, "0.08")}, nil},
	})
	t.Run("R3_missing_CPI_message_names_the_year_and_the_file", func(t *testing.T) {
		_, err := tariffs.Rate(Usage{Channel: ChannelSMS, Direction: DirectionOutbound, Destination: "+31612345678", Quantity: 1, At: local("2028-03-01 12:00")})
		if err == nil || !strings.Contains(err.Error(), "CPI change missing for 2027") || !strings.Contains(err.Error(), "cpi.csv") {
			t.Errorf("error %v, want it to name CPI 2027 and cpi.csv", err)
		}
	})
}

// T&C 2.7: an account's agreed prices win over the list for that account; versioned by
// valid_from; surcharges still apply; indexed like list prices unless the account opted out.
func TestRateAgreementPrecedence(t *testing.T) {
	tariffs := termsTariffs(t)
	agreed := agreement(t, tariffs, `sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed
sms,,outbound,33,FR,0.04,,,2026-06-01,SMS FR agreed from June
professional_services,,,,,100,,,2026-01-01,Consultancy agreed
`)
	terms := Terms{Agreement: agreed}
	with := func(u Usage, terms Terms) Usage { u.Terms = terms; return u }
	runRateCases(t, tariffs, []rateCase{
		{"T&C_2.7_agreed_price_wins", with(sms("+31612345678", 2, local("2026-03-10 10:00")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.05", 2, "0.1")}, nil},
		{"T&C_2.7_agreed_shorter_prefix_wins_over_a_longer_listed_one", with(sms("+3197012345678", 1, local("2026-03-10 10:00")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.05", 1, "0.05")}, nil},
		{"T&C_2.7_other_destinations_at_the_list_price", with(sms("+3247012345", 1, local("2026-03-10 10:00")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.077425", 1, "0.077425")}, nil},
		{"T&C_2.7_agreed_version_not_yet_in_force_falls_back_to_the_list", with(sms("+33612345678", 1, local("2026-05-31 23:59")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.068", 1, "0.068"), charge(KindSurcharge, "", "0.01", 1, "0.01")}, nil},
		{"T&C_2.7_agreed_version_in_force_surcharges_still_apply", with(sms("+33612345678", 1, local("2026-06-01 00:00")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.04", 1, "0.04"), charge(KindSurcharge, "", "0.01", 1, "0.01")}, nil},
		{"R3_agreed_prices_indexed", with(sms("+31612345678", 1, local("2027-03-10 10:00")), terms),
			[]wantTermsCharge{charge(KindUsage, "", "0.051", 1, "0.051")}, nil},
		{"T&C_3.4_agreement_opting_out_is_not_indexed", with(sms("+31612345678", 1, local("2027-03-10 10:00")), Terms{Agreement: agreed, NoIndexation: true}),
			[]wantTermsCharge{charge(KindUsage, "", "0.05", 1, "0.05")}, nil},
		{"T&C_2.7_other_accounts_pay_the_list", sms("+31612345678", 1, local("2026-03-10 10:00")),
			[]wantTermsCharge{charge(KindUsage, "", "0.080", 1, "0.08")}, nil},
		// Agreed hourly rate, no agreed overtime rate: the list's overtime rate (SST 9.1).
		{"SST_9.1_agreed_hourly_rate_listed_overtime_rate", with(Usage{Channel: ChannelProfessionalServices, Quantity: 120, At: local("2026-03-10 16:00")}, terms),
			[]wantTermsCharge{charge(KindUsage, "", "100", 60, "100"), charge(KindUsage, ProductOvertime, "180", 60, "180")}, nil},
	})
	t.Run("T&C_2.7_an_agreement_needs_rows", func(t *testing.T) {
		if _, err := tariffs.NewAgreement(nil); !errors.Is(err, ErrInvalidTariff) {
			t.Errorf("NewAgreement(nil) = %v, want ErrInvalidTariff", err)
		}
	})
}

// SST 9.1, R2: professional services per hour; the minutes outside Monday–Friday 09:00–17:00
// Amsterdam or on a Dutch public holiday at the overtime rate; a booking across the boundary
// is split into two usage charges.
func TestRateProfessionalServices(t *testing.T) {
	tariffs := termsTariffs(t)
	ps := func(start string, minutes int64) Usage {
		return Usage{Channel: ChannelProfessionalServices, Direction: DirectionOutbound, Quantity: minutes, At: local(start)}
	}
	runRateCases(t, tariffs, []rateCase{
		// Tuesday 10 March 2026.
		{"SST_9.1_working_time_at_the_hourly_rate", ps("2026-03-10 09:00", 90),
			[]wantTermsCharge{charge(KindUsage, "", "120", 90, "180")}, nil},
		{"SST_9.1_straddling_17:00_is_split", ps("2026-03-10 16:00", 120),
			[]wantTermsCharge{charge(KindUsage, "", "120", 60, "120"), charge(KindUsage, ProductOvertime, "180", 60, "180")}, nil},
		{"SST_9.1_straddling_09:00_is_split", ps("2026-03-10 08:30", 45),
			[]wantTermsCharge{charge(KindUsage, "", "120", 15, "30"), charge(KindUsage, ProductOvertime, "180", 30, "90")}, nil},
		{"SST_9.1_saturday_is_overtime", ps("2026-03-14 10:00", 60),
			[]wantTermsCharge{charge(KindUsage, ProductOvertime, "180", 60, "180")}, nil},
		{"SST_9.1_kings_day_is_overtime", ps("2026-04-27 10:00", 30),
			[]wantTermsCharge{charge(KindUsage, ProductOvertime, "180", 30, "90")}, nil},
		{"SST_9.1_easter_monday_is_overtime", ps("2026-04-06 10:00", 30),
			[]wantTermsCharge{charge(KindUsage, ProductOvertime, "180", 30, "90")}, nil},
		// 7 minutes: 120 × 7 / 60 = 14 exactly; 1 minute: 2.
		{"SST_9.1_minutes_are_pro_rata", ps("2026-03-11 11:00", 7),
			[]wantTermsCharge{charge(KindUsage, "", "120", 7, "14")}, nil},
		// Friday 16:30 to Monday 09:30 (3,900 minutes): 30 working minutes on Friday, 30 on
		// Monday, 3,840 of overtime: 64 hours × 180.
		{"SST_9.1_over_a_weekend", ps("2026-03-13 16:30", 3900),
			[]wantTermsCharge{charge(KindUsage, "", "120", 60, "120"), charge(KindUsage, ProductOvertime, "180", 3840, "11520")}, nil},
		{"SST_9.1_zero_minutes_charge_nothing", ps("2026-03-14 10:00", 0),
			[]wantTermsCharge{charge(KindUsage, "", "120", 0, "0")}, nil},
		{"SST_9.1_booking_over_31_days_is_malformed", ps("2026-03-10 09:00", MaxBookingMinutes+1), nil, ErrInvalidUsage},
		{"R3_hourly_rates_indexed", ps("2027-03-10 09:00", 60),
			[]wantTermsCharge{charge(KindUsage, "", "122.4", 60, "122.4")}, nil},
	})
	t.Run("SST_9.1_no_overtime_row_is_no_price_not_the_hourly_rate", func(t *testing.T) {
		rows, err := ParsePrices("prices.csv", strings.NewReader("channel,unit_price,valid_from\nprofessional_services,120,2026-01-01\n"))
		if err != nil {
			t.Fatal(err)
		}
		only, err := New(rows, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := only.Rate(ps("2026-03-14 10:00", 60)); !errors.Is(err, ErrNoPrice) || !strings.Contains(err.Error(), "overtime") {
			t.Errorf("weekend booking without an overtime row: %v, want no price for overtime", err)
		}
		if _, err := only.Rate(ps("2026-03-10 10:00", 60)); err != nil {
			t.Errorf("working-time booking: %v", err)
		}
	})
}

// The integer path with terms: for random agreements (prices of 0 to 10 decimals), events over
// four years with and without indexation, Rate and rateFast give rateDecimal's rating and
// errors (missing CPI included).
func TestRateFastMatchesDecimalWithTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	tariffs := termsTariffs(t)
	destinations := []string{"+31612345678", "+3197012345678", "+3247012345", "+33612345678", "+4915112345678"}
	channels := []string{ChannelSMS, ChannelVoice, ChannelProfessionalServices}
	fast, n := 0, 0
	for range 300 {
		var csv strings.Builder
		for _, prefix := range []string{"31", "3197", "33", "316"} {
			if r.IntN(2) == 0 {
				continue
			}
			channel := channels[r.IntN(2)]
			seconds := ",,,"
			if channel == ChannelVoice {
				seconds = ",60,60,"
			}
			price := decimal.New(r.Int64N(1_000_000), -int32(r.IntN(11)))
			csv.WriteString(channel + ",,outbound," + prefix + ",," + price.String() + seconds + "202" + string(rune('4'+r.IntN(4))) + "-0" + string(rune('1'+r.IntN(9))) + "-01,agreed\n")
		}
		csv.WriteString("professional_services,,,,," + decimal.New(r.Int64N(100_000), -int32(r.IntN(4))).String() + ",,,2025-01-01,agreed hours\n")
		terms := Terms{Agreement: agreement(t, tariffs, csv.String()), NoIndexation: r.IntN(4) == 0}
		for range 20 {
			u := Usage{Channel: channels[r.IntN(len(channels))], Direction: DirectionOutbound, Quantity: r.Int64N(400),
				At: local("2024-07-01 00:00").Add(time.Duration(r.Int64N(4*365*24)) * time.Hour), Terms: terms}
			if u.Channel != ChannelProfessionalServices {
				u.Destination = destinations[r.IntN(len(destinations))]
				u.CallerID = "+31201234567"
			}
			n++
			if compareRate(t, tariffs, u) {
				fast++
			}
		}
	}
	t.Logf("%d events, %d by the integer path", n, fast)
	if fast < n/4 {
		t.Fatalf("%d of %d by the integer path: too little of it tested", fast, n)
	}
}

// CONTRACT 3.8, R3: the prices in force at an instant, indexed, with the indexations that made
// them; an account's agreed prices first; a missing CPI change is an error.
func TestPricesInForce(t *testing.T) {
	tariffs := termsTariffs(t)
	agreed := agreement(t, tariffs, "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\n")
	prices, err := tariffs.PricesInForce(local("2027-03-01 12:00"), Terms{Agreement: agreed})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]PriceInForce{}
	for i, p := range prices {
		key := p.Channel + "," + p.Product + "," + p.Prefix
		if p.Agreed {
			key = "agreed " + key
			if i != 0 {
				t.Errorf("agreed price at %d, want first", i)
			}
		}
		got[key] = p
	}
	for key, want := range map[string]struct {
		unit, listed string
		years        []int
	}{
		"agreed sms,,31": {"0.051", "0.05", []int{2026}},
		"sms,,31":        {"0.0816", "0.080", []int{2026}},
		// 0.060 → 0.06198 → 0.06452118 → 0.064521 → 0.06581142 → 0.065811
		"sms,,3197":                       {"0.065811", "0.060", []int{2024, 2025, 2026}},
		"sms,,32":                         {"0.078974", "0.072", []int{2024, 2025, 2026}},
		"voice,,316":                      {"0.127418", "0.12", []int{2025, 2026}},
		"professional_services,,":         {"122.4", "120", []int{2026}},
		"sms,,33":                         {"0.06936", "0.068", []int{2026}},
		"professional_services,overtime,": {"183.6", "180", []int{2026}},
	} {
		p, ok := got[key]
		if !ok {
			t.Errorf("%s missing from %+v", key, prices)
			continue
		}
		if !p.UnitPrice.Equal(decimal.RequireFromString(want.unit)) || !p.ListedPrice.Equal(decimal.RequireFromString(want.listed)) {
			t.Errorf("%s: %s (listed %s), want %s (listed %s)", key, p.UnitPrice, p.ListedPrice, want.unit, want.listed)
		}
		if len(p.Indexations) != len(want.years) {
			t.Errorf("%s: indexations %+v, want CPI years %v", key, p.Indexations, want.years)
			continue
		}
		for i, y := range want.years {
			if p.Indexations[i].Year != y || p.Indexations[i].On != IndexationDay(y+1) {
				t.Errorf("%s: indexation %d %+v, want CPI %d on 1 January %d", key, i, p.Indexations[i], y, y+1)
			}
		}
	}
	if len(prices) != 8 {
		t.Errorf("%d prices, want 8 (the 2024 SMS NL row is superseded)", len(prices))
	}
	if _, err := tariffs.PricesInForce(local("2028-01-01 00:00"), Terms{}); !errors.Is(err, ErrMissingCPI) {
		t.Errorf("prices in 2028 without CPI 2027: %v, want ErrMissingCPI", err)
	}
	opted, err := tariffs.PricesInForce(local("2028-01-01 00:00"), Terms{NoIndexation: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range opted {
		if !p.UnitPrice.Equal(p.ListedPrice) || len(p.Indexations) > 0 {
			t.Errorf("opted out: %+v indexed", p)
		}
	}
}

// T&C 2.7: an agreed list is refused whole, naming every wrong line.
func TestAgreementErrorsNameEveryLine(t *testing.T) {
	_, err := ParsePrices("prices.csv", strings.NewReader(`channel,product,direction,prefix,country,unit_price,min_seconds,increment_seconds,valid_from,description
sms,,outbound,31,NL,0.05,,,2026-01-01,ok
sms,,outbound,32,BE,-1,,,2026-01-01,negative
fax,,outbound,33,FR,0.05,,,2026-01-01,no channel
sms,,outbound,34,ES,0.05,,,2026-02-30,no date
sms,,outbound,31,NL,0.06,,,2026-01-01,same key and date as line 2
`))
	if !errors.Is(err, ErrInvalidTariff) {
		t.Fatalf("error %v, want ErrInvalidTariff", err)
	}
	for _, want := range []string{"prices.csv:3:6 (unit_price)", "prices.csv:4:1 (channel)", "prices.csv:5:9 (valid_from)", "prices.csv:6: same key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// R3: when the prices in force run out of CPI changes, for the gauge and the log.
func TestCPIDue(t *testing.T) {
	tariffs := termsTariffs(t)
	due, year, ok := tariffs.CPIDue(local("2027-06-01 12:00"))
	if !ok || !due.Equal(local("2028-01-01 00:00")) || year != 2027 {
		t.Errorf("CPIDue in 2027 = %s, CPI %d, %v; want 2028-01-01 00:00 Amsterdam, CPI 2027", due, year, ok)
	}
	if _, _, ok := tariffs.CPIDue(local("2024-01-01 00:00")); ok {
		t.Error("CPIDue before any price is in force: ok, want none")
	}
}
