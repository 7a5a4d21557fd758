package pricing

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/money"
)

// Indexation (R3, T&C 3.4). New works out, for every version of every price, its indexed unit
// price year by year (indexSteps), which rating and PricesInForce read.
// Surcharges are not indexed: they are the government, regulatory and operator fees passed on
// at cost (T&C 3.3), not the provider's own fees that T&C 3.4 lets it index.

// ErrMissingCPI is returned when an indexation is due for a year whose CPI change cpi.csv does
// not have: a missing figure is a loud error, never a silent 0 %.
var ErrMissingCPI = errors.New("CPI change missing")

// Indexation is one indexation a price went through: on 1 January of Year + 1, by the CPI change
// of Year.
type Indexation struct {
	Year   int             // the CPI year
	Change decimal.Decimal // its annual change, 0.033 for 3.3 %
	On     clock.LocalDate // the indexation day, 1 January of Year + 1
}

// IndexationDay is the day of the year prices are indexed (R3: 1 January).
func IndexationDay(year int) clock.LocalDate { return clock.LocalDate{Year: year, Month: 1, Day: 1} }

// indexStep is a price's unit price from one indexation on.
type indexStep struct {
	from  int64     // the indexation day's Start(), Unix seconds
	price nanoPrice // unit in whole nano-euros, or notNanos
	unit  decimal.Decimal
	Indexation
}

// indexSteps returns the indexations of a price valid from validFrom, oldest first, as far as
// cpi.csv reaches, and the start (Unix seconds) of the first indexation whose CPI change is
// missing: an event from then on cannot be priced (ErrMissingCPI). On each 1 January after
// validFrom the price is multiplied by 1 + the CPI change of the previous year and rounded to 6
// decimals, compounding; a price that takes effect on 1 January is a new base that day, first
// indexed a year later.
func indexSteps(price decimal.Decimal, validFrom clock.LocalDate, cpi map[int]decimal.Decimal) (steps []indexStep, gap int64) {
	for year := validFrom.Year + 1; ; year++ {
		change, ok := cpi[year-1]
		if !ok {
			return steps, IndexationDay(year).Start().Unix()
		}
		price = money.RoundCharge(price.Mul(decimal.NewFromInt(1).Add(change)))
		steps = append(steps, indexStep{from: IndexationDay(year).Start().Unix(), price: nanoPriceOf(price), unit: price,
			Indexation: Indexation{Year: year - 1, Change: change, On: IndexationDay(year)}})
	}
}

// missingCPI is the error of an event (or a price list) at or after a gap in cpi.csv.
func missingCPI(gap int64) error {
	day := clock.DateOf(time.Unix(gap, 0))
	return fmt.Errorf("%w for %d: the indexation of %s needs it (R3, T&C 3.4); add it to cpi.csv",
		ErrMissingCPI, day.Year-1, day)
}

// CPIChange returns the CPI change of a year from the tariffs' cpi.csv.
func (t *Tariffs) CPIChange(year int) (decimal.Decimal, bool) {
	for _, row := range t.cpi {
		if row.Year == year {
			return row.Change, true
		}
	}
	return decimal.Zero, false
}

// CPIDue returns when the prices in force at `at` first need a CPI change that cpi.csv lacks,
// and the year of that change: from then on their events cannot be priced (ErrMissingCPI) until
// it is added. ok is false when no price is in force.
func (t *Tariffs) CPIDue(at time.Time) (due time.Time, cpiYear int, ok bool) {
	sec, gap := at.Unix(), int64(math.MaxInt64)
	for _, v := range t.priceKeys {
		if i := v.index(sec); i >= 0 && v.vs[i].gap < gap {
			gap = v.vs[i].gap
		}
	}
	if gap == math.MaxInt64 {
		return time.Time{}, 0, false
	}
	due = time.Unix(gap, 0).UTC()
	return due, clock.DateOf(due).Year - 1, true
}
