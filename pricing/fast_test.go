package pricing

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"ledger/clock"

	"github.com/shopspring/decimal"
)

// The integer path of Rate (rateFast) must give exactly the rating of the decimal reference
// (rateDecimal): the same charges, every decimal the same value with the same exponent.

// sameDecimal reports how got differs from want: value (Equal), exponent and coefficient, and
// String() — the scale matters, not only the value.
func sameDecimal(got, want decimal.Decimal) string {
	if !got.Equal(want) || got.String() != want.String() || got.Exponent() != want.Exponent() ||
		got.Coefficient().Cmp(want.Coefficient()) != 0 {
		return fmt.Sprintf("%s (%s e%d), want %s (%s e%d)", got, got.Coefficient(), got.Exponent(),
			want, want.Coefficient(), want.Exponent())
	}
	return ""
}

// ratingDiff compares two ratings field by field; "" when they are the same.
func ratingDiff(got, want Rating) string {
	var diffs []string
	if len(got.Charges) != len(want.Charges) {
		return fmt.Sprintf("%d charges, want %d: %+v, want %+v", len(got.Charges), len(want.Charges), got.Charges, want.Charges)
	}
	for i := range want.Charges {
		g, w := got.Charges[i], want.Charges[i]
		if g.Kind != w.Kind || g.Description != w.Description || g.Channel != w.Channel || g.Product != w.Product ||
			g.Country != w.Country || g.Prefix != w.Prefix || g.Quantity != w.Quantity {
			diffs = append(diffs, fmt.Sprintf("charge %d: %+v, want %+v", i, g, w))
		}
		for _, f := range []struct {
			name      string
			got, want decimal.Decimal
		}{{"unit price", g.UnitPrice, w.UnitPrice}, {"units", g.Units, w.Units}, {"amount", g.Amount, w.Amount}} {
			if d := sameDecimal(f.got, f.want); d != "" {
				diffs = append(diffs, fmt.Sprintf("charge %d %s: %s", i, f.name, d))
			}
		}
	}
	if got.BilledQuantity != want.BilledQuantity {
		diffs = append(diffs, fmt.Sprintf("billed %d, want %d", got.BilledQuantity, want.BilledQuantity))
	}
	if got.InvalidCallerID != want.InvalidCallerID {
		diffs = append(diffs, fmt.Sprintf("invalid caller id %v, want %v", got.InvalidCallerID, want.InvalidCallerID))
	}
	if d := sameDecimal(got.Total, want.Total); d != "" {
		diffs = append(diffs, "total: "+d)
	}
	return strings.Join(diffs, "; ")
}

// compareRate rates u through Rate and rateFast and holds both to rateDecimal. It reports
// whether rateFast priced the event itself.
func compareRate(t testing.TB, tariffs *Tariffs, u Usage) (fast bool) {
	t.Helper()
	want, wantErr := tariffs.rateDecimal(u)
	fastRating, done, fastErr := tariffs.rateFast(u)
	got, gotErr := tariffs.Rate(u)
	for _, c := range []struct {
		name   string
		rating Rating
		err    error
		skip   bool
	}{{"Rate", got, gotErr, false}, {"rateFast", fastRating, fastErr, !done}} {
		if c.skip {
			continue
		}
		if (c.err == nil) != (wantErr == nil) || c.err != nil && c.err.Error() != wantErr.Error() {
			t.Fatalf("%s(%+v): error %v, want %v", c.name, u, c.err, wantErr)
		}
		if d := ratingDiff(c.rating, want); d != "" {
			t.Fatalf("%s(%+v) differs from rateDecimal: %s", c.name, u, d)
		}
	}
	if done && fastErr == nil {
		if err := fastRating.check(); err != nil {
			t.Fatalf("rateFast(%+v): %v", u, err)
		}
	}
	return done && fastErr == nil
}

// nanosOf is the unit price in whole nano-euros by decimal arithmetic, independent of
// nanoPriceOf, and whether it is one.
func nanosOf(price decimal.Decimal) (int64, bool) {
	n := price.Shift(nanoDecimals)
	if !n.IsInteger() || n.IsNegative() || n.GreaterThan(decimal.NewFromInt(math.MaxInt64)) {
		return 0, false
	}
	return n.IntPart(), true
}

// Unit prices the random rows draw from besides random ones: tiny, large, exact halves, the
// edges of int64 nanos, and prices finer than a nano-euro (which only rateDecimal can apply).
var specialPrices = []string{
	"0", "0.0", "0.000000000", "0.000000000000", "1", "0.0000001", "0.000000001", "0.0000000015", "0.123456789",
	"1234.5", "0.075", "0.12", "0.00003", "0.0000005", "0.0123456", "0.05", "120", "180", "1000000",
	"0.100000000000", "9223372036.854775807", "9223372036.854775808", "9223372.036854775", "99999999999",
	"0.0000000001", "0.00000000015", "0.1234567891", "1.0000000000001",
}

// randomPrice is a unit price with 0 to 9 decimals (sometimes 10 to 12, sometimes special).
func randomPrice(r *rand.Rand) decimal.Decimal {
	switch r.IntN(10) {
	case 0, 1:
		s := specialPrices[r.IntN(len(specialPrices))]
		return decimal.RequireFromString(s)
	case 2:
		// decimal.New with a positive exponent, or trailing zeros past 9 decimals.
		return decimal.New(r.Int64N(1000), int32(r.IntN(20)-14))
	case 3:
		return decimal.New(r.Int64N(10_000_000_000_000), -int32(10+r.IntN(3))) // 10 to 12 decimals
	}
	digits := 1 + r.IntN(12)
	coef := r.Int64N(int64(math.Pow10(digits)))
	return decimal.New(coef, -int32(r.IntN(10)))
}

var interestingQuantities = []int64{0, 1, 2, 3, 7, 29, 30, 59, 60, 61, 119, 120, 1023, 1024, 3599, 3600, 3601,
	7199, 7200, 7201, 86_399, 86_400, 1_000_000, 999_999_999_999, MaxQuantity}

func randomQuantity(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return r.Int64N(MaxQuantity + 1)
	case 1:
		return r.Int64N(10_000)
	}
	return interestingQuantities[r.IntN(len(interestingQuantities))]
}

func randomBillingSeconds(r *rand.Rand) (minSeconds, increment int64) {
	mins := []int64{0, 1, 30, 60, 61, MaxBillingSeconds}
	incs := []int64{1, 6, 7, 30, 60, 61, MaxBillingSeconds}
	minSeconds, increment = mins[r.IntN(len(mins))], incs[r.IntN(len(incs))]
	if r.IntN(4) == 0 {
		minSeconds, increment = r.Int64N(MaxBillingSeconds+1), 1+r.Int64N(MaxBillingSeconds)
	}
	return minSeconds, increment
}

var allChannels = []string{ChannelSMS, ChannelMMS, ChannelVoice, ChannelOTT, ChannelPush, ChannelProfessionalServices}

var jan2026 = clock.LocalDate{Year: 2026, Month: 1, Day: 1}

// randomTariffs is one price row per channel and the three kinds of surcharge (any channel,
// the channel's own, caller ID), each at a random unit price. prices lists every unit price.
func randomTariffs(t testing.TB, r *rand.Rand) (tariffs *Tariffs, prices []decimal.Decimal) {
	t.Helper()
	var priceRows []PriceRow
	for _, channel := range allChannels {
		row := PriceRow{Channel: channel, Country: "NL", UnitPrice: randomPrice(r), ValidFrom: jan2026,
			Description: "price " + channel, Line: len(priceRows) + 2}
		if channel != ChannelProfessionalServices {
			row.Prefix = "31"
		}
		if channel == ChannelVoice {
			row.MinSeconds, row.IncrementSeconds = randomBillingSeconds(r)
		}
		priceRows = append(priceRows, row)
		prices = append(prices, row.UnitPrice)
	}
	var surchargeRows []SurchargeRow
	add := func(channel, prefix, appliesTo string) {
		if r.IntN(4) == 0 {
			return // sometimes no such surcharge
		}
		row := SurchargeRow{Channel: channel, Prefix: prefix, UnitPrice: randomPrice(r), AppliesTo: appliesTo,
			ValidFrom: jan2026, Description: "surcharge " + channel + " " + appliesTo}
		surchargeRows = append(surchargeRows, row)
		prices = append(prices, row.UnitPrice)
	}
	add("", "31", AppliesToAll)
	add(allChannels[r.IntN(len(allChannels))], "316", AppliesToAll)
	add(ChannelVoice, "", AppliesToInvalidCallerID)
	tariffs, err := New(priceRows, surchargeRows, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tariffs, prices
}

// fastExpected reports whether rateFast must price an event against these prices: every unit
// price whole nanos and small enough that no amount or total can leave int64 micros.
func fastExpected(prices []decimal.Decimal, quantity int64) bool {
	for _, p := range prices {
		nanos, ok := nanosOf(p)
		if !ok || nanos > 1_000_000_000_000 || quantity > 1_000_000 {
			return false
		}
	}
	return true
}

// TestRateFastMatchesDecimal is the property: for thousands of random price lists (unit
// prices with 0 to 9 decimals, tiny and large, and some finer than a nano-euro) and quantities
// on every channel, Rate and rateFast give exactly rateDecimal's rating.
func TestRateFastMatchesDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 3))
	lists, events, fast := 3000, 0, 0
	if testing.Short() {
		lists = 300
	}
	callerIDs := []string{"", "+31201234567", "+031201234567", "31201234567"}
	for range lists {
		tariffs, prices := randomTariffs(t, r)
		for range 12 {
			u := Usage{Channel: allChannels[r.IntN(len(allChannels))], Direction: DirectionOutbound,
				Destination: "+31612345678", Quantity: randomQuantity(r), CallerID: callerIDs[r.IntN(len(callerIDs))],
				At: time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)}
			if r.IntN(3) == 0 {
				u.Direction = DirectionInbound
			}
			if u.Channel == ChannelProfessionalServices {
				u.Destination = ""
			}
			events++
			if compareRate(t, tariffs, u) {
				fast++
			} else if u.Channel != ChannelProfessionalServices && fastExpected(prices, u.Quantity) {
				t.Fatalf("rateFast left %+v to rateDecimal with prices %v", u, prices)
			}
		}
	}
	t.Logf("%d events, %d by the integer path", events, fast)
	if fast < events/4 || fast == events {
		t.Fatalf("%d of %d events by the integer path: the property tests too little of one path", fast, events)
	}
}

// TestRateFastEdges: exact halves, the largest quantities and amounts at the edge of int64
// micros, zero prices, and prices finer than a nano-euro.
func TestRateFastEdges(t *testing.T) {
	for _, price := range specialPrices {
		for _, surcharge := range []string{"0", "0.05", "0.0000000001", "9223372036.854775807"} {
			for _, billing := range [][2]int64{{0, 1}, {60, 60}, {30, 6}, {MaxBillingSeconds, MaxBillingSeconds}} {
				var priceRows []PriceRow
				for _, channel := range allChannels {
					row := PriceRow{Channel: channel, UnitPrice: decimal.RequireFromString(price), ValidFrom: jan2026}
					if channel == ChannelVoice {
						row.MinSeconds, row.IncrementSeconds = billing[0], billing[1]
					}
					priceRows = append(priceRows, row)
				}
				surchargeRows := []SurchargeRow{
					{UnitPrice: decimal.RequireFromString(surcharge), AppliesTo: AppliesToAll, ValidFrom: jan2026},
					{Channel: ChannelVoice, UnitPrice: decimal.RequireFromString(surcharge), AppliesTo: AppliesToInvalidCallerID, ValidFrom: jan2026},
				}
				for _, withSurcharges := range []bool{false, true} {
					s := surchargeRows
					if !withSurcharges {
						s = nil
					}
					tariffs, err := New(priceRows, s, nil, nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, channel := range allChannels {
						for _, quantity := range interestingQuantities {
							u := Usage{Channel: channel, Direction: DirectionOutbound, Destination: "+31612345678",
								Quantity: quantity, At: march}
							if channel == ChannelProfessionalServices {
								u.Destination = ""
							}
							compareRate(t, tariffs, u)
						}
					}
				}
			}
		}
	}
}

// TestRateFastZeroValuePrice: a row built in memory with a zero-value Decimal unit price.
func TestRateFastZeroValuePrice(t *testing.T) {
	tariffs, err := New([]PriceRow{{Channel: ChannelVoice, ValidFrom: jan2026}, {Channel: ChannelSMS, ValidFrom: jan2026}},
		[]SurchargeRow{{AppliesTo: AppliesToAll, ValidFrom: jan2026}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, channel := range []string{ChannelVoice, ChannelSMS} {
		for _, quantity := range interestingQuantities {
			u := Usage{Channel: channel, Direction: DirectionOutbound, Destination: "+31612345678", Quantity: quantity, At: march}
			if quantity > 0 && !compareRate(t, tariffs, u) {
				t.Fatalf("%+v: zero price left to rateDecimal", u)
			}
		}
	}
}

// TestRateFastTable runs TestRate's events (and their errors) through the comparison.
func TestRateFastTable(t *testing.T) {
	tariffs := testTariffs(t)
	destinations := []string{"+31612345678", "+31201234567", "+33123456789", "+33612345678", "+442071234567",
		"+390612345678", "+34912345678", "+32470123456", "+4915112345678", "+9991234567", "", "31612345678"}
	times := []time.Time{march, at("2026-01-15T12:00:00Z"), at("2026-07-15T08:00:00Z"), at("2026-03-31T21:59:59Z"),
		at("2026-03-31T22:00:00Z"), at("2025-12-31T22:59:59Z"), at("2025-12-31T23:00:00Z"), {}}
	fast := 0
	for _, channel := range append(allChannels, "fax", "") {
		for _, product := range []string{"", "whatsapp", "apns", "overtime", "rcs"} {
			for _, direction := range []string{DirectionOutbound, DirectionInbound, ""} {
				for _, destination := range destinations {
					for _, when := range times {
						for _, quantity := range []int64{-1, 0, 1, 7, 61, 3601, MaxQuantity, MaxQuantity + 1} {
							for _, caller := range []string{"", "+31201234567"} {
								u := Usage{Channel: channel, Product: product, Direction: direction, Destination: destination,
									Quantity: quantity, CallerID: caller, At: when}
								if compareRate(t, tariffs, u) {
									fast++
								}
							}
						}
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Fatal("no event by the integer path")
	}
}

// FuzzRateFastMatchesDecimal: a price row and a surcharge of any unit price (coefficient and
// exponent), any billing seconds and quantity: Rate and rateFast give rateDecimal's rating.
func FuzzRateFastMatchesDecimal(f *testing.F) {
	f.Add(uint8(0), int64(75), int8(-3), int64(1), int8(-2), int64(2), uint32(0), uint32(1), false)
	f.Add(uint8(2), int64(12), int8(-2), int64(5), int8(-2), int64(61), uint32(60), uint32(60), true)
	f.Add(uint8(2), int64(3), int8(-5), int64(0), int8(0), int64(1), uint32(0), uint32(1), false)
	f.Add(uint8(5), int64(120), int8(0), int64(1), int8(-10), int64(7), uint32(0), uint32(1), false)
	f.Add(uint8(1), int64(1), int8(-10), int64(1), int8(-7), int64(MaxQuantity), uint32(0), uint32(1), false)
	f.Add(uint8(2), int64(math.MaxInt64), int8(-9), int64(math.MaxInt64), int8(-9), int64(MaxQuantity), uint32(86400), uint32(86400), true)
	f.Add(uint8(3), int64(123456789), int8(-9), int64(1), int8(3), int64(1_000_000), uint32(0), uint32(1), false)
	f.Fuzz(func(t *testing.T, channel uint8, priceCoef int64, priceExp int8, surCoef int64, surExp int8,
		quantity int64, minSeconds, increment uint32, invalidCaller bool) {
		if priceCoef < 0 || surCoef < 0 {
			return // New refuses negative prices
		}
		ch := allChannels[int(channel)%len(allChannels)]
		price := decimal.New(priceCoef, int32(priceExp%24))
		surcharge := decimal.New(surCoef, int32(surExp%24))
		row := PriceRow{Channel: ch, UnitPrice: price, ValidFrom: jan2026, Description: "p"}
		if ch == ChannelVoice {
			row.MinSeconds, row.IncrementSeconds = int64(minSeconds%(MaxBillingSeconds+1)), 1+int64(increment%MaxBillingSeconds)
		}
		tariffs, err := New([]PriceRow{row}, []SurchargeRow{
			{UnitPrice: surcharge, AppliesTo: AppliesToAll, ValidFrom: jan2026, Description: "s"},
			{Channel: ChannelVoice, UnitPrice: price, AppliesTo: AppliesToInvalidCallerID, ValidFrom: jan2026},
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		u := Usage{Channel: ch, Direction: DirectionOutbound, Destination: "+31612345678", Quantity: quantity,
			CallerID: "+31201234567", At: march}
		if invalidCaller {
			u.CallerID = ""
		}
		if ch == ChannelProfessionalServices {
			u.Destination = ""
		}
		compareRate(t, tariffs, u)
	})
}

// TestNanoPriceOf holds nanoPriceOf to decimal arithmetic: a price is whole nanos (and fits
// int64) exactly when nanoPriceOf says so.
func TestNanoPriceOf(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	check := func(p decimal.Decimal) {
		want, ok := nanosOf(p)
		got := nanoPriceOf(p)
		if ok && got == notNanos && p.Coefficient().BitLen() > 256 {
			return // a coefficient of more than 256 bits is left to rateDecimal, whatever its value
		}
		if !ok && got != notNanos || ok && got != nanoPrice(want) {
			t.Fatalf("nanoPriceOf(%s e%d) = %d, want %d (%v)", p, p.Exponent(), got, want, ok)
		}
	}
	for _, s := range specialPrices {
		check(decimal.RequireFromString(s))
	}
	check(decimal.Decimal{})
	check(decimal.New(-1, 0))
	check(decimal.New(1, 10))
	check(decimal.New(9, 9))
	check(decimal.New(1, -80))
	check(decimal.New(0, -2_000_000))
	check(decimal.NewFromBigInt(new(big.Int).Lsh(big.NewInt(1), 300), -90))
	check(decimal.NewFromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(80), nil), -80))
	for range 100_000 {
		check(randomPrice(r))
	}
}

// TestMulDivRound holds mulDivRound to big.Int arithmetic.
func TestMulDivRound(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	values := []uint64{0, 1, 2, 499, 500, 501, 29_999, 30_000, 59_999, 60_000, MaxQuantity, math.MaxInt64, math.MaxInt64 - 1}
	for range 1000 {
		values = append(values, r.Uint64()>>1, r.Uint64()>>r.IntN(64))
	}
	for _, a := range values {
		for _, d := range []uint64{2, 60, 1000, 60_000} {
			for range 20 {
				b := values[r.IntN(len(values))]
				got, ok := mulDivRound(a, b, d)
				var want, rem big.Int
				want.Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
				want.QuoRem(&want, new(big.Int).SetUint64(d), &rem)
				if rem.Lsh(&rem, 1).Cmp(new(big.Int).SetUint64(d)) >= 0 {
					want.Add(&want, big.NewInt(1))
				}
				wantOK := want.IsInt64()
				if ok != wantOK || ok && got != want.Int64() {
					t.Fatalf("mulDivRound(%d, %d, %d) = %d, %v; want %s, %v", a, b, d, got, ok, &want, wantOK)
				}
			}
		}
	}
}

// naiveBest is the longest-prefix lookup by its definition, over every key: the highest rank
// among the keys in force that match, comparing time.Time as versions.at used to.
func naiveBest[R any](keys []*versions[R], date func(*R) clock.LocalDate, digits, product, direction, appliesTo, channel string, channelRank int, at time.Time, m *match[R]) {
	for _, v := range keys {
		if v.key.channel != channel || v.key.appliesTo != appliesTo || !strings.HasPrefix(digits, v.key.prefix) {
			continue
		}
		rank := len(v.key.prefix)*rankPerDigit + channelRank
		if v.key.product == product && product != "" {
			rank += rankProductExact
		} else if v.key.product != "" {
			continue
		}
		if v.key.direction == direction && direction != "" {
			rank += rankDirectionExact
		} else if v.key.direction != "" {
			continue
		}
		idx := -1
		for i, ver := range v.vs {
			if !date(&ver.row).Start().After(at) {
				idx = i
			}
		}
		if idx < 0 || m.found && rank <= m.rank {
			continue
		}
		m.row, m.key, m.idx, m.rank, m.found = &v.vs[idx].row, v, idx, rank, true
	}
}

func priceDate(r *PriceRow) clock.LocalDate         { return r.ValidFrom }
func surchargeDate(r *SurchargeRow) clock.LocalDate { return r.ValidFrom }

// TestTrieBestMatchesNaive holds the deepest-first trie walk to the definition, on random
// price lists with overlapping prefixes, products, directions and versions.
func TestTrieBestMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	dates := []clock.LocalDate{{Year: 2025, Month: 1, Day: 1}, jan2026, {Year: 2026, Month: 4, Day: 1}, {Year: 2026, Month: 7, Day: 1}}
	prefix := func() string {
		p := ""
		for n := r.IntN(5); n > 0; n-- {
			p += strconv.Itoa(1 + r.IntN(3))
		}
		return p
	}
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	for range 300 {
		var prices []PriceRow
		var surcharges []SurchargeRow
		for range 1 + r.IntN(40) {
			prices = append(prices, PriceRow{Channel: pick(ChannelSMS, ChannelVoice), Product: pick("", "", "a", "b"),
				Direction: pick("", DirectionOutbound, DirectionInbound), Prefix: prefix(), UnitPrice: decimal.New(int64(r.IntN(100)), -3),
				ValidFrom: dates[r.IntN(len(dates))]})
			surcharges = append(surcharges, SurchargeRow{Channel: pick("", ChannelSMS, ChannelVoice), Product: pick("", "", "a"),
				Direction: pick("", DirectionOutbound, DirectionInbound), Prefix: prefix(), UnitPrice: decimal.New(int64(r.IntN(100)), -3),
				AppliesTo: pick(AppliesToAll, AppliesToInvalidCallerID), ValidFrom: dates[r.IntN(len(dates))]})
		}
		tariffs, err := New(prices, surcharges, nil, nil)
		if err != nil {
			continue // two rows with the same key and date
		}
		for range 50 {
			digits := ""
			for n := r.IntN(7); n > 0; n-- {
				digits += strconv.Itoa(1 + r.IntN(3))
			}
			product, direction := pick("", "a", "b", "c"), pick(DirectionOutbound, DirectionInbound)
			when := time.Date(2024+r.IntN(3), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), 0, r.IntN(2), 0, time.UTC)
			if r.IntN(4) == 0 { // around an Amsterdam midnight, to the second and below
				when = dates[r.IntN(len(dates))].Start().Add(time.Duration(r.IntN(3)-1) * time.Duration(1+r.IntN(int(time.Second))))
			}
			for _, channel := range []string{ChannelSMS, ChannelVoice} {
				var got, want match[PriceRow]
				if tr := tariffs.prices[channel]; tr != nil {
					tr.best(&got, digits, product, direction, "", 0, when)
				}
				naiveBest(tariffs.priceKeys, priceDate, digits, product, direction, "", channel, 0, when, &want)
				if got.found != want.found || got.found && (got.key != want.key || got.idx != want.idx || got.rank != want.rank) {
					t.Fatalf("price %s %q %q %q at %s: got %+v, want %+v", channel, digits, product, direction, when, got, want)
				}
				for _, applies := range []string{AppliesToAll, AppliesToInvalidCallerID} {
					var got, want match[SurchargeRow]
					if tr := tariffs.surcharges[""]; tr != nil {
						tr.best(&got, digits, product, direction, applies, 0, when)
					}
					if tr := tariffs.surcharges[channel]; tr != nil {
						tr.best(&got, digits, product, direction, applies, rankChannelExact, when)
					}
					naiveBest(tariffs.surchargeKeys, surchargeDate, digits, product, direction, applies, "", 0, when, &want)
					naiveBest(tariffs.surchargeKeys, surchargeDate, digits, product, direction, applies, channel, rankChannelExact, when, &want)
					if got.found != want.found || got.found && (got.key != want.key || got.idx != want.idx || got.rank != want.rank) {
						t.Fatalf("surcharge %s %s %q %q %q at %s: got %+v, want %+v", channel, applies, digits, product, direction, when, got, want)
					}
				}
			}
		}
	}
}

// TestRateFastErrorsUnchanged: the integer path returns rateDecimal's errors, of the same kind.
func TestRateFastErrorsUnchanged(t *testing.T) {
	tariffs := testTariffs(t)
	for _, u := range []Usage{
		{Channel: "sms", Direction: "outbound", Destination: "+9991234567", Quantity: 1, At: march},
		{Channel: "fax", Direction: "outbound", Destination: "+31612345678", Quantity: 1, At: march},
		{Channel: "sms", Direction: "outbound", Destination: "+31612345678", Quantity: -1, At: march},
	} {
		_, done, err := tariffs.rateFast(u)
		_, want := tariffs.rateDecimal(u)
		if !done || err == nil || err.Error() != want.Error() ||
			errors.Is(err, ErrNoPrice) != errors.Is(want, ErrNoPrice) || errors.Is(err, ErrInvalidUsage) != errors.Is(want, ErrInvalidUsage) {
			t.Fatalf("%+v: %v (done %v), want %v", u, err, done, want)
		}
	}
}
