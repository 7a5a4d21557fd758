package pricing

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"ledger/clock"

	"github.com/shopspring/decimal"
)

// benchmarkPrefixes is the size of the price list BenchmarkRate looks up in: tens of
// thousands of prefixes, as a carrier's full destination list has.
const benchmarkPrefixes = 50_000

// benchmarkTariffs builds an SMS and a voice price list of random prefixes of 1 to 9 digits
// (the first digit not 0), every prefix with two versions, and destinations to rate.
func benchmarkTariffs(b *testing.B) (*Tariffs, []Usage) {
	b.Helper()
	random := rand.New(rand.NewPCG(2026, 1))
	jan := clock.LocalDate{Year: 2026, Month: 1, Day: 1}
	apr := clock.LocalDate{Year: 2026, Month: 4, Day: 1}
	seen := make(map[string]bool, benchmarkPrefixes)
	var prices []PriceRow
	for len(seen) < benchmarkPrefixes {
		prefix := strconv.Itoa(1 + random.IntN(9))
		for n := random.IntN(9); n > 0; n-- {
			prefix += strconv.Itoa(random.IntN(10))
		}
		if seen[prefix] {
			continue
		}
		seen[prefix] = true
		price := decimal.New(int64(1+random.IntN(200_000)), -6)
		for _, channel := range []string{ChannelSMS, ChannelVoice} {
			for _, validFrom := range []clock.LocalDate{jan, apr} {
				prices = append(prices, PriceRow{Channel: channel, Direction: DirectionOutbound, Prefix: prefix,
					UnitPrice: price, MinSeconds: 0, IncrementSeconds: 1, ValidFrom: validFrom})
			}
		}
	}
	surcharges := []SurchargeRow{{Channel: ChannelVoice, UnitPrice: decimal.RequireFromString("0.05"),
		AppliesTo: AppliesToInvalidCallerID, ValidFrom: jan}}
	tariffs, err := New(prices, surcharges, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	usages := make([]Usage, 1024)
	for i := range usages {
		destination := "+" + strconv.Itoa(1+random.IntN(9))
		for range 10 {
			destination += strconv.Itoa(random.IntN(10))
		}
		channel, quantity := ChannelSMS, int64(1+random.IntN(3))
		if i%2 == 1 {
			channel, quantity = ChannelVoice, int64(random.IntN(600))
		}
		usages[i] = Usage{Channel: channel, Direction: DirectionOutbound, Destination: destination,
			Quantity: quantity, At: march}
	}
	return tariffs, usages
}

// BenchmarkRate rates SMS and voice events (half of the calls without caller ID, so with a
// surcharge lookup) against 50,000 random prefixes per channel.
func BenchmarkRate(b *testing.B) {
	tariffs, usages := benchmarkTariffs(b)
	priced := 0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := tariffs.Rate(usages[i%len(usages)]); err == nil {
			priced++
		}
		i++
	}
	if priced == 0 {
		b.Fatal("no event priced: the benchmark measures nothing")
	}
}

// BenchmarkLookup is the prefix lookup alone, without the decimal arithmetic of a charge.
func BenchmarkLookup(b *testing.B) {
	tariffs, usages := benchmarkTariffs(b)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		u := usages[i%len(usages)]
		var m match[PriceRow]
		tariffs.prices[u.Channel].best(&m, u.Destination[1:], "", u.Direction, "", 0, u.At)
		i++
	}
}

func ExampleTariffs_Rate() {
	prices := []PriceRow{{Channel: ChannelVoice, Direction: DirectionOutbound, Prefix: "316", Country: "NL",
		UnitPrice: decimal.RequireFromString("0.12"), MinSeconds: 60, IncrementSeconds: 60,
		ValidFrom: clock.LocalDate{Year: 2026, Month: 1, Day: 1}, Description: "Voice NL mobile"}}
	tariffs, err := New(prices, nil, nil, nil)
	if err != nil {
		panic(err)
	}
	rating, err := tariffs.Rate(Usage{Channel: ChannelVoice, Direction: DirectionOutbound,
		Destination: "+31612345678", Quantity: 61, CallerID: "+31201234567", At: march})
	if err != nil {
		panic(err)
	}
	c := rating.Charges[0]
	fmt.Println(c.Description, rating.BilledQuantity, c.Units, c.Amount.StringFixed(6))
	// Output: Voice NL mobile 120 2 0.240000
}

// BenchmarkRateTerms is BenchmarkRate with what issue 6 added to every event: "list" as
// BenchmarkRate (2026 events, nothing indexed), "indexed" the same events in 2027 with every
// price indexed once (R3), and "agreements" the 2027 events with one in ten carrying an
// agreement of 200 agreed three-digit prefixes per channel (T&C 2.7) looked up before the list.
func BenchmarkRateTerms(b *testing.B) {
	list, usages := benchmarkTariffs(b)
	var rows []PriceRow
	for _, v := range list.priceKeys {
		for _, ver := range v.vs {
			rows = append(rows, ver.row)
		}
	}
	indexed, err := New(rows, list.SurchargesAt(march), []CPIRow{{Year: 2026, Change: decimal.RequireFromString("0.02")}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	random := rand.New(rand.NewPCG(2026, 6))
	var agreed []PriceRow
	seen := map[string]bool{}
	for len(seen) < 200 {
		prefix := strconv.Itoa(100 + random.IntN(900)) // 900 three-digit prefixes to draw 200 from
		if seen[prefix] {
			continue
		}
		seen[prefix] = true
		for _, channel := range []string{ChannelSMS, ChannelVoice} {
			agreed = append(agreed, PriceRow{Channel: channel, Direction: DirectionOutbound, Prefix: prefix,
				UnitPrice: decimal.New(int64(1+random.IntN(100_000)), -6), IncrementSeconds: 1,
				ValidFrom: clock.LocalDate{Year: 2026, Month: 1, Day: 1}})
		}
	}
	agreement, err := indexed.NewAgreement(agreed)
	if err != nil {
		b.Fatal(err)
	}
	next := func(u []Usage, year int, withAgreement bool) []Usage {
		out := make([]Usage, len(u))
		for i, x := range u {
			x.At = x.At.AddDate(year, 0, 0)
			if withAgreement && i%10 == 0 {
				x.Terms = Terms{Agreement: agreement}
			}
			out[i] = x
		}
		return out
	}
	for _, c := range []struct {
		name    string
		tariffs *Tariffs
		usages  []Usage
	}{
		{"list", list, usages},
		{"indexed", indexed, next(usages, 1, false)},
		{"agreements", indexed, next(usages, 1, true)},
	} {
		b.Run(c.name, func(b *testing.B) {
			priced := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.tariffs.Rate(c.usages[i%len(c.usages)]); err == nil {
					priced++
				}
				i++
			}
			if priced == 0 {
				b.Fatal("no event priced: the benchmark measures nothing")
			}
		})
	}
}
