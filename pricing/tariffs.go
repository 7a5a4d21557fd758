package pricing

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"ledger/clock"

	"github.com/shopspring/decimal"
)

// Channels a usage event and a tariff row can name (CONTRACT section 2).
const (
	ChannelSMS                  = "sms"
	ChannelMMS                  = "mms"
	ChannelVoice                = "voice"
	ChannelOTT                  = "ott"
	ChannelPush                 = "push"
	ChannelProfessionalServices = "professional_services"
)

// Directions of traffic. A tariff row with direction "" prices both.
const (
	DirectionOutbound = "outbound"
	DirectionInbound  = "inbound"
)

// Values of a surcharge row's applies_to column.
const (
	// AppliesToAll is a surcharge on every matching event (T&C 3.3).
	AppliesToAll = "all"
	// AppliesToInvalidCallerID is a surcharge on outbound voice without a correct caller ID (SST 6.3).
	AppliesToInvalidCallerID = "invalid_caller_id"
)

// ProductOvertime is the professional-services product whose row prices the hours outside
// working time (SST 9.1, CONTRACT 4).
const ProductOvertime = "overtime"

// The professional-services products an event may name besides the hours (product empty): travel
// in kilometres and materials in units, each priced per unit by its own prices.csv row and
// invoiced on a line of its own (R2, SST 9.1; CONTRACT 2).
const (
	ProductTravel    = "travel"
	ProductMaterials = "materials"
)

// PerUnitService reports whether a professional-services product is priced per unit of its own
// (travel, materials) rather than per hour.
func PerUnitService(product string) bool {
	return product == ProductTravel || product == ProductMaterials
}

// Kinds of Charge.
const (
	KindUsage     = "usage"
	KindSurcharge = "surcharge"
)

// Limits on what a tariff set may hold. A file beyond them is refused rather than half-loaded.
const (
	// MaxFileBytes is the largest tariff file Load or a Parse function reads.
	MaxFileBytes = 64 << 20
	// MaxRows is the most data rows one tariff file may hold.
	MaxRows = 1_000_000
	// MaxPrefixDigits is the longest prefix: an E.164 number has at most 15 digits.
	MaxPrefixDigits = 15
	// MaxBillingSeconds bounds min_seconds and increment_seconds (one day), which keeps the
	// billed-seconds arithmetic of Rate far from int64 overflow.
	MaxBillingSeconds = 86_400
	// MaxProductLength is the longest product name.
	MaxProductLength = 64
	// MaxDescriptionLength is the longest description, in bytes.
	MaxDescriptionLength = 256
	// MaxQuantity is the largest quantity Rate accepts for one event (10^12 parts, seconds,
	// messages or minutes); beyond it the event is malformed, not a bill.
	MaxQuantity = 1_000_000_000_000
)

// ErrInvalidTariff is wrapped by every error about the content of a tariff file or row, so
// that an API accepting a price list can answer 400 with the message.
var ErrInvalidTariff = errors.New("invalid tariff")

// PriceRow is one row of prices.csv: the price of a channel, product, direction and destination
// prefix from a date on.
type PriceRow struct {
	// Direction is "", "outbound" or "inbound"; "" prices both. Prefix is digits only, "" for
	// any destination; Product "" prices any product.
	Channel, Product, Direction, Prefix, Country string
	// UnitPrice is per part or message, per minute for voice, per hour for professional services.
	UnitPrice decimal.Decimal
	// MinSeconds and IncrementSeconds are for voice only; empty in the file means 0 and 1.
	MinSeconds, IncrementSeconds int64
	ValidFrom                    clock.LocalDate
	Description                  string
	// Line is the row's line number in its file, for messages; 0 when not from a file.
	Line int
}

// SurchargeRow is one row of surcharges.csv: an amount per unit added on top of the price of
// matching traffic (T&C 3.3), or of voice without a correct caller ID (SST 6.3).
type SurchargeRow struct {
	// Channel "" matches any channel; the other keys match as in PriceRow.
	Channel, Product, Direction, Prefix, Country string
	// UnitPrice is per part or message, per billed minute for voice, per hour for professional
	// services.
	UnitPrice decimal.Decimal
	// AppliesTo is "all" or "invalid_caller_id".
	AppliesTo   string
	ValidFrom   clock.LocalDate
	Description string
	Line        int
}

// CPIRow is the annual CPI change of Year, as a fraction (0.033 for 3.3 %), applied on
// 1 January of the next year (R3).
type CPIRow struct {
	Year   int
	Change decimal.Decimal
}

// InterestRow is the annual late-payment rate, as a fraction, in force from ValidFrom (R6).
type InterestRow struct {
	ValidFrom  clock.LocalDate
	AnnualRate decimal.Decimal
}

// Tariffs is an immutable, loaded tariff set. Safe for concurrent use.
type Tariffs struct {
	prices     map[string]*trie[PriceRow]     // by channel
	surcharges map[string]*trie[SurchargeRow] // by channel; "" holds the any-channel rows
	// priceKeys and surchargeKeys are every key, sorted for PricesInForce and SurchargesAt.
	priceKeys     []*versions[PriceRow]
	surchargeKeys []*versions[SurchargeRow]
	cpi           []CPIRow
	interest      []InterestRow
	// priceTries and surchargeTries are prices and surcharges by channelSlot, for Rate.
	priceTries     [numSlots]*trie[PriceRow]
	surchargeTries [numSlots]*trie[SurchargeRow]
}

// New builds a tariff set from rows. It validates every row as the Parse functions do (rows
// built in memory get the same checks as rows from a file) and refuses two rows with the same
// key and valid_from. A zero IncrementSeconds means 1, as an empty column does in the file.
// The slices are not retained.
func New(prices []PriceRow, surcharges []SurchargeRow, cpi []CPIRow, interest []InterestRow) (*Tariffs, error) {
	t := &Tariffs{
		prices:     make(map[string]*trie[PriceRow]),
		surcharges: make(map[string]*trie[SurchargeRow]),
	}

	priceKeys := make(map[versionKey]*versions[PriceRow])
	for _, row := range prices {
		if row.IncrementSeconds == 0 {
			row.IncrementSeconds = 1
		}
		if err := checkPriceRow(row); err != nil {
			return nil, fmt.Errorf("%w: price row%s: %v", ErrInvalidTariff, lineSuffix(row.Line), err)
		}
		key := versionKey{channel: row.Channel, product: row.Product, direction: row.Direction, prefix: row.Prefix}
		v := priceKeys[key]
		if v == nil {
			v = &versions[PriceRow]{key: key}
			priceKeys[key] = v
			t.priceKeys = append(t.priceKeys, v)
			tr := t.prices[row.Channel]
			if tr == nil {
				tr = newTrie[PriceRow]()
				t.prices[row.Channel] = tr
			}
			tr.add(v)
		}
		v.vs = append(v.vs, version[PriceRow]{row: row})
	}

	surchargeKeys := make(map[versionKey]*versions[SurchargeRow])
	for _, row := range surcharges {
		if err := checkSurchargeRow(row); err != nil {
			return nil, fmt.Errorf("%w: surcharge row%s: %v", ErrInvalidTariff, lineSuffix(row.Line), err)
		}
		key := versionKey{channel: row.Channel, product: row.Product, direction: row.Direction, prefix: row.Prefix, appliesTo: row.AppliesTo}
		v := surchargeKeys[key]
		if v == nil {
			v = &versions[SurchargeRow]{key: key}
			surchargeKeys[key] = v
			t.surchargeKeys = append(t.surchargeKeys, v)
			tr := t.surcharges[row.Channel]
			if tr == nil {
				tr = newTrie[SurchargeRow]()
				t.surcharges[row.Channel] = tr
			}
			tr.add(v)
		}
		v.vs = append(v.vs, version[SurchargeRow]{row: row})
	}

	for _, v := range t.priceKeys {
		if err := v.seal(func(r *PriceRow) clock.LocalDate { return r.ValidFrom }, func(r *PriceRow) int { return r.Line }); err != nil {
			return nil, fmt.Errorf("%w: prices: %v", ErrInvalidTariff, err)
		}
	}
	for _, v := range t.surchargeKeys {
		if err := v.seal(func(r *SurchargeRow) clock.LocalDate { return r.ValidFrom }, func(r *SurchargeRow) int { return r.Line }); err != nil {
			return nil, fmt.Errorf("%w: surcharges: %v", ErrInvalidTariff, err)
		}
	}
	t.cpi = append([]CPIRow(nil), cpi...)
	if err := checkCPI(t.cpi); err != nil {
		return nil, err
	}
	sort.Slice(t.cpi, func(i, j int) bool { return t.cpi[i].Year < t.cpi[j].Year })
	changes := make(map[int]decimal.Decimal, len(t.cpi))
	for _, row := range t.cpi {
		changes[row.Year] = row.Change
	}
	for _, v := range t.priceKeys {
		setNanoPrices(v, func(r *PriceRow) decimal.Decimal { return r.UnitPrice })
		for i := range v.vs {
			v.vs[i].setSteps(indexSteps(v.vs[i].row.UnitPrice, v.vs[i].row.ValidFrom, changes))
		}
	}
	for _, v := range t.surchargeKeys {
		setNanoPrices(v, func(r *SurchargeRow) decimal.Decimal { return r.UnitPrice })
		for i := range v.vs {
			v.vs[i].setSteps(nil, math.MaxInt64) // not indexed (T&C 3.3; see indexation.go)
		}
	}
	for channel, tr := range t.prices {
		t.priceTries[channelSlot(channel)] = tr
	}
	for channel, tr := range t.surcharges {
		t.surchargeTries[channelSlot(channel)] = tr
	}
	sort.Slice(t.priceKeys, func(i, j int) bool { return t.priceKeys[i].key.less(t.priceKeys[j].key) })
	sort.Slice(t.surchargeKeys, func(i, j int) bool { return t.surchargeKeys[i].key.less(t.surchargeKeys[j].key) })

	t.interest = append([]InterestRow(nil), interest...)
	if err := checkInterest(t.interest); err != nil {
		return nil, err
	}
	sort.Slice(t.interest, func(i, j int) bool { return t.interest[i].ValidFrom.Before(t.interest[j].ValidFrom) })
	return t, nil
}

// SurchargesAt returns, for every key, the surcharge in force at `at`, sorted by channel,
// product, direction, prefix and applies_to.
func (t *Tariffs) SurchargesAt(at time.Time) []SurchargeRow {
	out := make([]SurchargeRow, 0, len(t.surchargeKeys))
	for _, v := range t.surchargeKeys {
		if row, ok := v.at(at); ok {
			out = append(out, row)
		}
	}
	return out
}

// CPI returns the CPI changes by year, oldest first. The slice is the caller's.
func (t *Tariffs) CPI() []CPIRow { return append([]CPIRow(nil), t.cpi...) }

// Interest returns the late-payment rates by start date, oldest first. The slice is the caller's.
func (t *Tariffs) Interest() []InterestRow { return append([]InterestRow(nil), t.interest...) }

func lineSuffix(line int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}

// Field checks, shared by the file parsers (which add file, line and column) and New.

func checkChannel(channel string, anyAllowed bool) error {
	switch channel {
	case ChannelSMS, ChannelMMS, ChannelVoice, ChannelOTT, ChannelPush, ChannelProfessionalServices:
		return nil
	case "":
		if anyAllowed {
			return nil
		}
		return errors.New("a channel is required")
	}
	return fmt.Errorf("%q is not a channel (sms, mms, voice, ott, push, professional_services)", channel)
}

func checkProduct(product string) error {
	if len(product) > MaxProductLength {
		return fmt.Errorf("product is longer than %d characters", MaxProductLength)
	}
	for _, c := range product {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%q is not a product name (lower-case letters, digits, _ and -)", product)
		}
	}
	return nil
}

func checkDirection(direction string) error {
	switch direction {
	case "", DirectionOutbound, DirectionInbound:
		return nil
	}
	return fmt.Errorf("%q is not a direction (outbound, inbound, or empty for both)", direction)
}

func checkPrefix(prefix string) error {
	if len(prefix) > MaxPrefixDigits {
		return fmt.Errorf("prefix %q is longer than %d digits", prefix, MaxPrefixDigits)
	}
	for i := 0; i < len(prefix); i++ {
		if prefix[i] < '0' || prefix[i] > '9' {
			return fmt.Errorf("prefix %q is not digits only", prefix)
		}
	}
	return nil
}

func checkCountry(country string) error {
	if country == "" {
		return nil
	}
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
		return fmt.Errorf("%q is not a country code (two upper-case letters, e.g. NL)", country)
	}
	return nil
}

func checkUnitPrice(price decimal.Decimal) error {
	if price.IsNegative() {
		return fmt.Errorf("unit price %s is negative", price)
	}
	return nil
}

func checkDate(date clock.LocalDate) error {
	normal := time.Date(date.Year, date.Month, date.Day, 12, 0, 0, 0, time.UTC)
	if date.Year < 1 || date.Year > 9999 || normal.Year() != date.Year || normal.Month() != date.Month || normal.Day() != date.Day {
		return fmt.Errorf("valid_from %s is not a calendar date in the years 1 to 9999", date)
	}
	return nil
}

func checkDescription(description string) error {
	if len(description) > MaxDescriptionLength {
		return fmt.Errorf("description is longer than %d bytes", MaxDescriptionLength)
	}
	return nil
}

func checkSeconds(channel string, minSeconds, incrementSeconds int64) error {
	if minSeconds < 0 || minSeconds > MaxBillingSeconds {
		return fmt.Errorf("min_seconds %d is not between 0 and %d", minSeconds, MaxBillingSeconds)
	}
	if incrementSeconds < 1 || incrementSeconds > MaxBillingSeconds {
		return fmt.Errorf("increment_seconds %d is not between 1 and %d", incrementSeconds, MaxBillingSeconds)
	}
	// R2: minimum and increment are a voice rule; elsewhere they would be silently ignored.
	if channel != ChannelVoice && (minSeconds != 0 || incrementSeconds != 1) {
		return fmt.Errorf("min_seconds and increment_seconds are for voice only, not %s", channel)
	}
	return nil
}

func checkAppliesTo(channel, appliesTo string) error {
	switch appliesTo {
	case AppliesToAll:
		return nil
	case AppliesToInvalidCallerID:
		// SST 6.3: the caller-ID condition exists only for voice; on another channel the row
		// could never apply.
		if channel != "" && channel != ChannelVoice {
			return fmt.Errorf("applies_to %s is for voice only (SST 6.3), not %s", appliesTo, channel)
		}
		return nil
	}
	return fmt.Errorf("%q is not an applies_to (all, invalid_caller_id)", appliesTo)
}

func checkPriceRow(row PriceRow) error {
	return errors.Join(
		checkChannel(row.Channel, false),
		checkProduct(row.Product),
		checkDirection(row.Direction),
		checkPrefix(row.Prefix),
		checkCountry(row.Country),
		checkUnitPrice(row.UnitPrice),
		checkSeconds(row.Channel, row.MinSeconds, row.IncrementSeconds),
		checkDate(row.ValidFrom),
		checkDescription(row.Description),
	)
}

func checkSurchargeRow(row SurchargeRow) error {
	return errors.Join(
		checkChannel(row.Channel, true),
		checkProduct(row.Product),
		checkDirection(row.Direction),
		checkPrefix(row.Prefix),
		checkCountry(row.Country),
		checkUnitPrice(row.UnitPrice),
		checkAppliesTo(row.Channel, row.AppliesTo),
		checkDate(row.ValidFrom),
		checkDescription(row.Description),
	)
}

// CPI and interest figures are fractions: a change of 1 or more (100 %) is far more likely a
// percentage typed by mistake (3.3 for 0.033) than a real figure, so it is refused.
var (
	minCPIChange  = decimal.NewFromInt(-1)
	maxCPIChange  = decimal.NewFromInt(1)
	maxAnnualRate = decimal.NewFromInt(1)
)

// Years a CPI row may name.
const (
	minCPIYear = 1900
	maxCPIYear = 9999
)

const fractionAdvice = "a fraction is expected (0.033 for 3.3 %)"

func checkCPIRow(row CPIRow) error {
	if row.Year < minCPIYear || row.Year > maxCPIYear {
		return fmt.Errorf("year %d is not between %d and %d", row.Year, minCPIYear, maxCPIYear)
	}
	if !row.Change.GreaterThan(minCPIChange) || !row.Change.LessThan(maxCPIChange) {
		return fmt.Errorf("change %s is not between -1 and 1: %s", row.Change, fractionAdvice)
	}
	return nil
}

func checkCPI(rows []CPIRow) error {
	seen := make(map[int]bool, len(rows))
	for _, row := range rows {
		if err := checkCPIRow(row); err != nil {
			return fmt.Errorf("%w: cpi: %v", ErrInvalidTariff, err)
		}
		if seen[row.Year] {
			return fmt.Errorf("%w: cpi: year %d appears twice", ErrInvalidTariff, row.Year)
		}
		seen[row.Year] = true
	}
	return nil
}

func checkInterestRow(row InterestRow) error {
	if err := checkDate(row.ValidFrom); err != nil {
		return err
	}
	if row.AnnualRate.IsNegative() || !row.AnnualRate.LessThan(maxAnnualRate) {
		return fmt.Errorf("annual_rate %s is not between 0 and 1: %s", row.AnnualRate, fractionAdvice)
	}
	return nil
}

func checkInterest(rows []InterestRow) error {
	seen := make(map[clock.LocalDate]bool, len(rows))
	for _, row := range rows {
		if err := checkInterestRow(row); err != nil {
			return fmt.Errorf("%w: interest: %v", ErrInvalidTariff, err)
		}
		if seen[row.ValidFrom] {
			return fmt.Errorf("%w: interest: valid_from %s appears twice", ErrInvalidTariff, row.ValidFrom)
		}
		seen[row.ValidFrom] = true
	}
	return nil
}

// describeKey formats a key for messages: "sms,,outbound,31".
func describeKey(k versionKey) string {
	s := strings.Join([]string{k.channel, k.product, k.direction, k.prefix}, ",")
	if k.appliesTo != "" {
		s += "," + k.appliesTo
	}
	return s
}

// LongestPrefix is the number of digits of the longest prefix in the price lists and
// surcharges: the digits of a destination that rating can tell apart (R14: what billing needs of
// a number is its matched prefix).
func (t *Tariffs) LongestPrefix() int {
	n := 0
	for _, v := range t.priceKeys {
		n = max(n, len(v.key.prefix))
	}
	for _, v := range t.surchargeKeys {
		n = max(n, len(v.key.prefix))
	}
	return n
}
