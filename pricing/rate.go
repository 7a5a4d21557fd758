package pricing

import (
	"errors"
	"fmt"
	"time"

	"ledger/money"

	"github.com/shopspring/decimal"
)

// ErrNoPrice is returned, wrapped with the event's details, when no price is in force for an
// event (errors.Is(err, ErrNoPrice)). R1: such an event is parked with reason no_price, never
// dropped and never charged zero.
var ErrNoPrice = errors.New("no price")

// ErrInvalidUsage is returned, wrapped, when a Usage breaks what the caller should have checked
// (unknown channel, direction not set, destination not E.164, quantity out of range): a
// malformed event, not a pricing gap.
var ErrInvalidUsage = errors.New("invalid usage")

// Usage is what rating needs of a usage event (already validated by the caller).
type Usage struct {
	Channel     string // sms, mms, voice, ott, push, professional_services
	Product     string // e.g. whatsapp; may be ""
	Direction   string // "outbound" or "inbound" (caller applies the default outbound)
	Destination string // E.164 "+31612345678"; "" for professional_services
	Quantity    int64  // parts, seconds (voice), messages, minutes (professional_services)
	CallerID    string // voice
	At          time.Time
	// Terms are the account's agreed prices and indexation (T&C 2.7, 3.4); zero: list prices,
	// indexed.
	Terms Terms
}

// Charge is one priced amount: a base charge, or one surcharge. Kind "usage" or "surcharge".
type Charge struct {
	Kind        string
	Description string // from the matched row
	// Channel and Product are the event's; for professional services Product is "" for the
	// hours in working time and "overtime" for the others (SST 9.1). Prefix and Country are the
	// matched row's.
	Channel, Product, Country, Prefix string
	// UnitPrice is the row's, indexed to the event's date unless the account opted out (R3).
	UnitPrice decimal.Decimal
	// Quantity is the billed quantity the charge is on, in the event's units: parts, messages,
	// billed seconds (voice), minutes (professional services).
	Quantity int64
	// Units is the quantity the unit price was applied to: parts or messages; billed minutes
	// for voice; hours for professional services. Minutes and hours are exact when the
	// division by 60 ends (billed seconds a multiple of 3), else rounded to UnitsDecimals.
	// Amount never uses Units: it is computed from the whole seconds or minutes.
	Units decimal.Decimal
	// Amount is UnitPrice × Units computed exactly, rounded to 6 decimals half away from zero.
	Amount decimal.Decimal
}

// UnitsDecimals is the precision of Charge.Units when billed minutes or hours are not a
// terminating decimal (61 s = 1.016667 minutes).
const UnitsDecimals = 6

// Rating is the result for one event.
type Rating struct {
	// Charges are the base charges, kind "usage", then the surcharges. There is one base
	// charge, but for a professional-services booking across working time (SST 9.1): one at the
	// hourly rate for the minutes in working time, one at the overtime rate for the rest.
	Charges         []Charge
	BilledQuantity  int64 // voice: billed seconds; otherwise Quantity
	InvalidCallerID bool  // SST 6.3 condition held
	Total           decimal.Decimal
}

// Overtime returns the overtime charge of a professional-services booking across working time
// (SST 9.1): the second usage charge, when there is one.
func (r Rating) Overtime() (Charge, bool) {
	if len(r.Charges) > 1 && r.Charges[1].Kind == KindUsage {
		return r.Charges[1], true
	}
	return Charge{}, false
}

// sixty divides per-minute voice prices (by seconds) and per-hour professional-service
// prices (by minutes).
var sixty = decimal.NewFromInt(60)

// Rate prices one event: the base charge from the price in force at u.At for the longest
// matching prefix (R1, R2), then the surcharges that apply (T&C 3.3, SST 6.3).
//
// Amounts are computed in integers when the unit prices are whole nano-euros and the amounts
// fit int64 micro-euros (rateFast), else with exact decimals (rateDecimal); both give the same
// rating.
func (t *Tariffs) Rate(u Usage) (Rating, error) {
	if rating, done, err := t.rateFast(u); done {
		return rating, err
	}
	return t.rateDecimal(u)
}

// rateDecimal is Rate with exact decimal arithmetic throughout: the reference rateFast is held
// to, and the path for what rateFast cannot do in integers.
func (t *Tariffs) rateDecimal(u Usage) (Rating, error) {
	digits, err := checkUsage(u)
	if err != nil {
		return Rating{}, err
	}
	slot, product := channelSlot(u.Channel), u.Product
	hours := slot == slotProfessionalServices && !PerUnitService(product)
	if hours {
		if product != "" {
			return Rating{}, fmt.Errorf("%w: product %q is not one of professional services: empty for the hours, %s or %s (CONTRACT 2, SST 9.1)",
				ErrInvalidUsage, product, ProductTravel, ProductMaterials)
		}
		product = "" // the hours are priced by the product-less row and the overtime row (SST 9.1)
	}
	sec, indexed := u.At.Unix(), !u.Terms.NoIndexation

	// SST 6.3: the customer must send the correct caller ID for the calls it sends. An inbound
	// call's caller is not the customer's, so only outbound voice is held to it.
	invalidCallerID := u.Channel == ChannelVoice && u.Direction == DirectionOutbound && !ValidE164(u.CallerID)

	// The base charges: one, or for professional services one per rate (SST 9.1).
	type part struct {
		product string
		billed  int64
		exact   bool // the product must match exactly: the overtime rate
	}
	// Travel and materials: per kilometre or unit, by their own row only, never the hourly one.
	parts := []part{{product, u.Quantity, slot == slotProfessionalServices}}
	if hours {
		split, err := SplitWorkingTime(u.At, u.Quantity)
		if err != nil {
			return Rating{}, fmt.Errorf("%w: %v", ErrInvalidUsage, err)
		}
		parts = parts[:0]
		if split.WorkingMinutes > 0 || split.OvertimeMinutes == 0 {
			parts = append(parts, part{"", split.WorkingMinutes, false})
		}
		if split.OvertimeMinutes > 0 {
			parts = append(parts, part{ProductOvertime, split.OvertimeMinutes, true})
		}
	}

	charges := make([]Charge, 0, len(parts)+2)
	billed, perSixty := u.Quantity, u.Channel == ChannelVoice || hours
	for _, p := range parts {
		var price match[PriceRow]
		t.findPrice(&price, slot, digits, p.product, u.Direction, p.exact, u.Terms, u.At)
		if !price.found {
			err := noPrice(u, p.product)
			switch {
			case p.exact && p.product == ProductOvertime:
				err = fmt.Errorf("%w (SST 9.1: the minutes outside working time are billed at the overtime rate, never the hourly one)", err)
			case p.exact:
				err = fmt.Errorf("%w (R2, SST 9.1: %s is priced by its own prices.csv row, product %s, never at the hourly rate)", err, p.product, p.product)
			}
			return Rating{}, err
		}
		_, unitPrice, err := priceAt(&price.key.vs[price.idx], sec, indexed)
		if err != nil {
			return Rating{}, err
		}
		if u.Channel == ChannelVoice {
			if u.Quantity == 0 {
				return unchargedCall(u, product, price.row, unitPrice, invalidCallerID), nil
			}
			billed = billedSeconds(u.Quantity, price.row.MinSeconds, price.row.IncrementSeconds)
			p.billed = billed
		}
		m := measure{billed: p.billed, perSixty: perSixty}
		charges = append(charges, Charge{
			Kind: KindUsage, Description: price.row.Description, Channel: u.Channel, Product: p.product,
			Country: price.row.Country, Prefix: price.row.Prefix, UnitPrice: unitPrice,
			Quantity: p.billed, Units: m.units(), Amount: m.amount(unitPrice),
		})
	}
	charged := measure{billed: billed, perSixty: perSixty}

	// T&C 3.3: destination surcharges on top, each on its own line; at most one per applies_to.
	// They are on the whole quantity, and are not indexed (see indexation.go).
	appliesTo := []string{AppliesToAll}
	if invalidCallerID {
		appliesTo = append(appliesTo, AppliesToInvalidCallerID) // SST 6.3
	}
	for _, applies := range appliesTo {
		var surcharge match[SurchargeRow]
		if tr := t.surchargeTries[slotAny]; tr != nil {
			tr.best(&surcharge, digits, product, u.Direction, applies, 0, u.At)
		}
		if tr := t.surchargeTries[slot]; tr != nil {
			tr.best(&surcharge, digits, product, u.Direction, applies, rankChannelExact, u.At)
		}
		if !surcharge.found {
			continue
		}
		charges = append(charges, Charge{
			Kind: KindSurcharge, Description: surcharge.row.Description, Channel: u.Channel, Product: product,
			Country: surcharge.row.Country, Prefix: surcharge.row.Prefix, UnitPrice: surcharge.row.UnitPrice,
			Quantity: billed, Units: charged.units(), Amount: charged.amount(surcharge.row.UnitPrice),
		})
	}

	total := decimal.Zero
	for _, c := range charges {
		total = total.Add(c.Amount)
	}
	rating := Rating{Charges: charges, BilledQuantity: billed, InvalidCallerID: invalidCallerID, Total: total}
	if err := rating.check(); err != nil {
		return Rating{}, err
	}
	return rating, nil
}

// unchargedCall is the rating of a call of 0 seconds: R2, it is not charged, and so carries no
// surcharge either.
func unchargedCall(u Usage, product string, row *PriceRow, unitPrice decimal.Decimal, invalidCallerID bool) Rating {
	base := Charge{
		Kind: KindUsage, Description: row.Description, Channel: u.Channel, Product: product,
		Country: row.Country, Prefix: row.Prefix, UnitPrice: unitPrice,
		Units: decimal.Zero, Amount: decimal.Zero,
	}
	return Rating{Charges: []Charge{base}, InvalidCallerID: invalidCallerID, Total: decimal.Zero}
}

// billedSeconds is R2's voice rule: max(min_seconds, ceil(seconds / increment) × increment).
// MaxQuantity and MaxBillingSeconds keep it far from overflow.
func billedSeconds(seconds, minSeconds, incrementSeconds int64) int64 {
	billed := (seconds + incrementSeconds - 1) / incrementSeconds * incrementSeconds
	return max(billed, minSeconds)
}

// measure is the quantity a unit price applies to: billed units, or billed seconds (minutes)
// per sixty for per-minute voice and per-hour professional services.
type measure struct {
	billed   int64
	perSixty bool
}

func (m measure) units() decimal.Decimal {
	if m.perSixty {
		return decimal.NewFromInt(m.billed).DivRound(sixty, UnitsDecimals)
	}
	return decimal.NewFromInt(m.billed)
}

// amount is unitPrice × units rounded once to a charge: for per-sixty measures the exact
// quotient unitPrice × billed / 60 is rounded by DivRound, half away from zero like
// money.RoundCharge, so no rounded Units ever enters an amount.
func (m measure) amount(unitPrice decimal.Decimal) decimal.Decimal {
	product := unitPrice.Mul(decimal.NewFromInt(m.billed))
	if m.perSixty {
		return product.DivRound(sixty, money.ChargeDecimals)
	}
	return money.RoundCharge(product)
}

// check asserts what every rating must be: a base charge first, amounts at most 6 decimals and
// not negative, and a total that is their sum.
func (r Rating) check() error {
	if len(r.Charges) == 0 || r.Charges[0].Kind != KindUsage {
		return fmt.Errorf("pricing: internal: rating without a base charge first")
	}
	sum := decimal.Zero
	for _, c := range r.Charges {
		if c.Amount.IsNegative() || !c.Amount.Equal(money.RoundCharge(c.Amount)) {
			return fmt.Errorf("pricing: internal: charge amount %s is negative or not rounded", c.Amount)
		}
		sum = sum.Add(c.Amount)
	}
	if !sum.Equal(r.Total) {
		return fmt.Errorf("pricing: internal: total %s is not the sum of charges %s", r.Total, sum)
	}
	return nil
}

// checkUsage refuses what a caller should not pass and returns the destination's digits.
func checkUsage(u Usage) (string, error) {
	if err := checkChannel(u.Channel, false); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidUsage, err)
	}
	if u.Direction != DirectionOutbound && u.Direction != DirectionInbound {
		return "", fmt.Errorf("%w: direction %q is not outbound or inbound", ErrInvalidUsage, u.Direction)
	}
	if u.Quantity < 0 || u.Quantity > MaxQuantity {
		return "", fmt.Errorf("%w: quantity %d is not between 0 and %d", ErrInvalidUsage, u.Quantity, int64(MaxQuantity))
	}
	if u.At.IsZero() {
		return "", fmt.Errorf("%w: occurred_at is missing", ErrInvalidUsage)
	}
	if u.Destination == "" {
		return "", nil // professional services; only prefix-less rows can match
	}
	if len(u.Destination) < 2 || u.Destination[0] != '+' || !isDigits(u.Destination[1:]) || len(u.Destination)-1 > MaxPrefixDigits {
		return "", fmt.Errorf("%w: destination %q is not an E.164 number", ErrInvalidUsage, u.Destination)
	}
	return u.Destination[1:], nil
}

// ValidE164 reports whether s is "+" then 1 to 15 digits, the first not 0: a destination
// (CONTRACT 2) and SST 6.3's correct caller ID alike.
func ValidE164(s string) bool {
	return len(s) >= 2 && len(s) <= 1+MaxPrefixDigits && s[0] == '+' && s[1] != '0' && isDigits(s[1:])
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// noPrice names what could not be priced: "no price for sms outbound to +999… at 2026-03-10T08:00:00Z".
func noPrice(u Usage, product string) error {
	what := u.Channel
	if product != "" {
		what += " " + product
	}
	what += " " + u.Direction
	if u.Destination != "" {
		what += " to " + u.Destination
	}
	return fmt.Errorf("%w for %s at %s", ErrNoPrice, what, u.At.UTC().Format(time.RFC3339))
}
