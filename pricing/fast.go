package pricing

import (
	"math"
	"math/big"
	"math/bits"
	"sync"

	"github.com/shopspring/decimal"
)

// The integer path of Rate.
//
// rateDecimal is the reference: every amount is exact decimal arithmetic, rounded once. Most
// unit prices are a whole number of nano-euros (10^-9 EUR, 9 decimals), and then the same
// exact quotient can be taken in integers:
//
//	per part or message:            micros = nanos × quantity / 1000
//	per minute (voice, by seconds): micros = nanos × seconds / 60000
//
// Professional services are left to rateDecimal: a booking is split by working time (SST 9.1),
// and bookings are few.
// each rounded half away from zero (half up: nothing here is negative), which is what
// money.RoundCharge and DivRound do to the exact decimal. Products are taken in 128 bits, and
// whatever does not fit (a unit price that is not whole nanos, an amount or total beyond int64
// micros) is left to rateDecimal, so the results are the same values with the same scale
// (exponent -6) as rateDecimal's. fast_test.go checks that against rateDecimal.

// nanoDecimals is the scale of a nanoPrice.
const nanoDecimals = 9

// Divisors from nanos × quantity to micros (10^-6 EUR, money.ChargeDecimals).
const (
	nanosPerMicro       = 1_000
	nanosPerMicroPerMin = 60 * nanosPerMicro // per minute by seconds, per hour by minutes
)

// nanoPrice is a unit price as a whole number of nano-euros, or notNanos when it is not one.
type nanoPrice int64

// notNanos marks a unit price that only rateDecimal can apply (unit prices are never negative).
const notNanos nanoPrice = -1

// nanoPriceOf returns price in whole nano-euros, or notNanos when it is not exactly that
// (finer than 10^-9, negative, or beyond int64 nanos: about 9.2 billion EUR).
func nanoPriceOf(price decimal.Decimal) nanoPrice {
	coef := price.Coefficient() // a copy
	switch {
	case coef.Sign() < 0:
		return notNanos
	case coef.Sign() == 0:
		return 0 // zero at any scale
	case coef.BitLen() > 256:
		return notNanos // not worth the big arithmetic: rateDecimal prices it
	}
	shift := int64(price.Exponent()) + nanoDecimals
	switch {
	case shift > 18:
		return notNanos // coef ≥ 1, so at least 10^19 nanos
	case shift >= 0:
		coef.Mul(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(shift), nil))
	case shift < -77:
		return notNanos // coef < 2^256 < 10^78 is no multiple of 10^78
	default:
		var rem big.Int
		coef.QuoRem(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(-shift), nil), &rem)
		if rem.Sign() != 0 {
			return notNanos // a fraction of a nano-euro
		}
	}
	if !coef.IsInt64() {
		return notNanos
	}
	return nanoPrice(coef.Int64())
}

// setNanoPrices fills in the price of every version of v from its row's unit price.
func setNanoPrices[R any](v *versions[R], unitPrice func(*R) decimal.Decimal) {
	for i := range v.vs {
		v.vs[i].price = nanoPriceOf(unitPrice(&v.vs[i].row))
	}
}

// mulDivRound returns a × b / d rounded half up, and !ok when that is not below 2^63. d must be
// even (so that d/2 is exactly the half).
func mulDivRound(a, b, d uint64) (int64, bool) {
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, d/2, 0)
	hi, carry = bits.Add64(hi, 0, carry)
	if carry != 0 || hi >= d {
		return 0, false // the quotient would not fit 64 bits
	}
	q, _ := bits.Div64(hi, lo, d)
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

// microsDecimal is an amount of whole micro-euros as rateDecimal builds it: exponent -6.
func microsDecimal(micros int64) decimal.Decimal {
	if micros == 0 {
		return zeroMicros
	}
	return decimal.New(micros, -6)
}

// zeroMicros is 0 with exponent -6, shared: a Decimal is immutable.
var zeroMicros = decimal.New(0, -6)

// Units of a charge are the same few values over and over (1 to 3 parts, 60 or 120 billed
// seconds), so the common ones are built once and shared (a Decimal is immutable): about
// 4,000 decimals, 200 KB, built on first use.
const (
	cachedWholeUnits  = 256      // parts or messages 0..255
	cachedSixtiethsOf = 3600 + 1 // billed seconds (or minutes) 0..3600
)

type unitsTables struct {
	whole     [cachedWholeUnits]decimal.Decimal  // decimal.NewFromInt(n)
	sixtieths [cachedSixtiethsOf]decimal.Decimal // n / 60 rounded to UnitsDecimals, as measure.units
}

var cachedUnits = sync.OnceValue(func() *unitsTables {
	u := new(unitsTables)
	for n := range u.whole {
		u.whole[n] = decimal.NewFromInt(int64(n))
	}
	for n := range u.sixtieths {
		u.sixtieths[n] = sixtiethsDecimal(int64(n))
	}
	return u
})

// sixtiethsDecimal is n/60 rounded half up to UnitsDecimals (6) decimals, exponent -6: what
// measure.units computes with DivRound, in integers (n ≤ MaxQuantity + MaxBillingSeconds, so
// n × 10^6 fits easily).
func sixtiethsDecimal(n int64) decimal.Decimal {
	q, _ := mulDivRound(uint64(n), 1_000_000, 60)
	return decimal.New(q, -UnitsDecimals)
}

// fastUnits is measure.units' value (and exponent) for a billed quantity.
func fastUnits(billed int64, perSixty bool) decimal.Decimal {
	if perSixty {
		if billed < cachedSixtiethsOf {
			return cachedUnits().sixtieths[billed]
		}
		return sixtiethsDecimal(billed)
	}
	if billed < cachedWholeUnits {
		return cachedUnits().whole[billed]
	}
	return decimal.NewFromInt(billed)
}

// rateFast is Rate in integers. It answers (rating, true, nil), or (Rating{}, true, err) with
// the error rateDecimal would give, or (Rating{}, false, nil) when the event needs the decimal
// path: a unit price that is not whole nano-euros, or an amount or total beyond int64 micros.
// The lookups are rateDecimal's, through the same tries.
func (t *Tariffs) rateFast(u Usage) (Rating, bool, error) {
	digits, err := checkUsage(u)
	if err != nil {
		return Rating{}, true, err
	}
	channel := channelSlot(u.Channel)
	if channel == slotProfessionalServices {
		return Rating{}, false, nil // split by working time (SST 9.1): rateDecimal's
	}
	product := u.Product

	var price match[PriceRow]
	t.findPrice(&price, channel, digits, product, u.Direction, false, u.Terms, u.At)
	if !price.found {
		return Rating{}, true, noPrice(u, product)
	}
	unitNanos, unitPrice, err := priceAt(&price.key.vs[price.idx], u.At.Unix(), !u.Terms.NoIndexation)
	if err != nil {
		return Rating{}, true, err
	}
	invalidCallerID := channel == slotVoice && u.Direction == DirectionOutbound && !ValidE164(u.CallerID)

	billed, divisor := u.Quantity, uint64(nanosPerMicro)
	switch channel {
	case slotVoice:
		if u.Quantity == 0 {
			return unchargedCall(u, product, price.row, unitPrice, invalidCallerID), true, nil
		}
		billed = billedSeconds(u.Quantity, price.row.MinSeconds, price.row.IncrementSeconds)
		divisor = nanosPerMicroPerMin
	}
	if unitNanos == notNanos {
		return Rating{}, false, nil
	}
	baseMicros, ok := mulDivRound(uint64(unitNanos), uint64(billed), divisor)
	if !ok {
		return Rating{}, false, nil
	}

	// T&C 3.3, SST 6.3: the surcharges, looked up as rateDecimal does, before the charges are
	// built so that the slice is allocated once at its size.
	var (
		found       [2]match[SurchargeRow]
		foundMicros [2]int64
		n           int
	)
	total := baseMicros
	anyChannel, ownChannel := t.surchargeTries[slotAny], t.surchargeTries[channel]
	for _, applies := range [2]string{AppliesToAll, AppliesToInvalidCallerID} {
		if applies == AppliesToInvalidCallerID && !invalidCallerID {
			break
		}
		s := &found[n]
		if anyChannel != nil {
			anyChannel.best(s, digits, product, u.Direction, applies, 0, u.At)
		}
		if ownChannel != nil {
			ownChannel.best(s, digits, product, u.Direction, applies, rankChannelExact, u.At)
		}
		if !s.found {
			continue
		}
		unitNanos := s.key.vs[s.idx].price
		if unitNanos == notNanos {
			return Rating{}, false, nil
		}
		micros, ok := mulDivRound(uint64(unitNanos), uint64(billed), divisor)
		if !ok || micros > math.MaxInt64-total {
			return Rating{}, false, nil
		}
		foundMicros[n] = micros
		total += micros
		n++
	}

	units := fastUnits(billed, divisor == nanosPerMicroPerMin)
	baseAmount := microsDecimal(baseMicros)
	charges := make([]Charge, 1+n)
	charges[0] = Charge{
		Kind: KindUsage, Description: price.row.Description, Channel: u.Channel, Product: product,
		Country: price.row.Country, Prefix: price.row.Prefix, UnitPrice: unitPrice,
		Quantity: billed, Units: units, Amount: baseAmount,
	}
	for i := range n {
		row := found[i].row
		charges[1+i] = Charge{
			Kind: KindSurcharge, Description: row.Description, Channel: u.Channel, Product: product,
			Country: row.Country, Prefix: row.Prefix, UnitPrice: row.UnitPrice,
			Quantity: billed, Units: units, Amount: microsDecimal(foundMicros[i]),
		}
	}
	totalAmount := baseAmount // the same value and exponent: shared
	if total != baseMicros {
		totalAmount = microsDecimal(total)
	}
	// Rating.check holds by construction: amounts are whole micros (exponent -6), none is
	// negative (nor is any unit price or quantity), and total is their sum without overflow.
	return Rating{Charges: charges, BilledQuantity: billed, InvalidCallerID: invalidCallerID, Total: totalAmount}, true, nil
}

// Slots of the tries by channel (Tariffs.priceTries, surchargeTries): a switch on the channel
// instead of a map lookup per trie.
const (
	slotAny = iota // "": surcharges of any channel
	slotSMS
	slotMMS
	slotVoice
	slotOTT
	slotPush
	slotProfessionalServices
	numSlots
)

// channelSlot is the slot of a channel that checkChannel accepts.
func channelSlot(channel string) int {
	switch channel {
	case ChannelSMS:
		return slotSMS
	case ChannelMMS:
		return slotMMS
	case ChannelVoice:
		return slotVoice
	case ChannelOTT:
		return slotOTT
	case ChannelPush:
		return slotPush
	case ChannelProfessionalServices:
		return slotProfessionalServices
	}
	return slotAny
}
