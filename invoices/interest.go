package invoices

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"ledger/clock"
	"ledger/money"
	"ledger/pricing"
)

// Rate is a late-payment rate in force from a date (interest.csv, R6).
type Rate struct {
	From   clock.LocalDate
	Annual decimal.Decimal
}

// RatesOf reads the rates of interest.csv.
func RatesOf(rows []pricing.InterestRow) []Rate {
	out := make([]Rate, len(rows))
	for i, r := range rows {
		out[i] = Rate{From: r.ValidFrom, Annual: r.AnnualRate}
	}
	return out
}

// CollectionCosts is the default fixed compensation per overdue invoice (R6: EU Late Payment
// Directive 2011/7/EU art. 6).
var CollectionCosts = decimal.NewFromInt(40)

// Interest is the late-payment interest (R6, T&C 3.8, art. 6:119a BW) on an overdue amount from
// firstDay through lastDay, both included: each day bears the annual rate in force that day
// divided by the days of its year, on the overdue amount of that day (overdue(d)). It compounds
// yearly: on each anniversary of firstDay the interest of the year past is added to the amount
// bearing interest. The result is rounded to cents once, at the end.
//
// rates are sorted by From; a day before the first rate is an error, not 0 %: a missing rate
// must be loud.
func Interest(rates []Rate, firstDay, lastDay clock.LocalDate, overdue func(clock.LocalDate) decimal.Decimal) (decimal.Decimal, error) {
	if lastDay.Before(firstDay) {
		return decimal.Zero, nil
	}
	var accrued, compounded decimal.Decimal // interest so far; the part of it added to the principal
	anniversary := firstDay.AddMonthsClamped(12)
	r := -1
	for d := firstDay; !lastDay.Before(d); d = d.AddDays(1) {
		if d == anniversary {
			compounded = accrued
			anniversary = anniversary.AddMonthsClamped(12)
		}
		for r+1 < len(rates) && !d.Before(rates[r+1].From) {
			r++
		}
		if r < 0 {
			return decimal.Zero, fmt.Errorf("no late-payment rate in interest.csv for %s (R6): add the rate in force then", d)
		}
		base := overdue(d)
		if base.Sign() <= 0 {
			continue // paid: what interest is owed is on the next invoice, and bears none itself
		}
		days := int64(365)
		if isLeap(d.Year) {
			days = 366
		}
		accrued = accrued.Add(base.Add(compounded).Mul(rates[r].Annual).Div(decimal.NewFromInt(days)))
	}
	return money.RoundInvoice(accrued), nil
}

func isLeap(y int) bool {
	return time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366
}
