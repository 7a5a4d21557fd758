package pricing

import (
	"errors"
	"fmt"
	"time"

	"ledger/clock"
)

// Working time for professional services (SST 9.1, RULES.md R2): hours outside Monday–Friday
// 09:00–17:00 Europe/Amsterdam, or on a Dutch public holiday, are billed at the overtime rate.
//
// This file only splits a booking into working and overtime minutes; rating does not use it
// yet.

// Working hours of a working day, in Europe/Amsterdam local time (SST 9.1: 09:00–17:00). Both
// lie outside the night of a DST change (02:00–03:00), so each names exactly one instant every
// day.
const (
	WorkingDayStartHour = 9
	WorkingDayEndHour   = 17
)

// MaxBookingMinutes is the longest booking SplitWorkingTime accepts: 31 days. A longer booking
// is a data error, not a month of work; the bound also keeps the arithmetic in nanoseconds far
// from int64 overflow (31 days is 2.7·10^15 ns).
const MaxBookingMinutes = 31 * 24 * 60

// ErrInvalidBooking is returned, wrapped with the booking's details, when SplitWorkingTime is
// given a booking it cannot split (negative or too many minutes, no start).
var ErrInvalidBooking = errors.New("invalid booking")

// WorkSplit is a booking's minutes split by rate: WorkingMinutes at the agreed rate,
// OvertimeMinutes at the overtime rate. They add up to the booking's minutes.
type WorkSplit struct {
	WorkingMinutes, OvertimeMinutes int64
}

// SplitWorkingTime splits a booking of minutes minutes of elapsed time from start into the
// minutes inside working time and the minutes outside it (SST 9.1, R2): working time is
// Monday–Friday, 09:00 ≤ local time < 17:00 Europe/Amsterdam, on a day that is not a Dutch
// public holiday (IsDutchPublicHoliday); everything else, nights, weekends and holidays, is
// overtime.
//
// Minutes are elapsed time, not clock readings: a booking from 01:00 to 04:00 local time on
// the night clocks go forward is 120 minutes, on the night they go back 240. The booking runs
// over absolute instants; only the 09:00 and 17:00 boundaries are found in Amsterdam local
// time, day by day, so DST changes, midnights, weekends and holidays need no special case.
//
// start need not be on a whole minute. The split is computed in nanoseconds and then rounded:
// the working part to the nearest whole minute, half a minute up, and the overtime part is
// the rest. A tie therefore goes to the cheaper agreed rate, and the two parts always add up
// to minutes.
//
// A booking with minutes < 0 or > MaxBookingMinutes, or a zero start, is refused with an
// error wrapping ErrInvalidBooking.
func SplitWorkingTime(start time.Time, minutes int64) (WorkSplit, error) {
	if minutes < 0 || minutes > MaxBookingMinutes {
		return WorkSplit{}, fmt.Errorf("%w: %d minutes is not between 0 and %d (SST 9.1)", ErrInvalidBooking, minutes, MaxBookingMinutes)
	}
	if start.IsZero() {
		return WorkSplit{}, fmt.Errorf("%w: the start is missing", ErrInvalidBooking)
	}
	if minutes == 0 {
		return WorkSplit{}, nil
	}
	start = start.Round(0) // compare wall-clock instants only, never a monotonic reading
	total := time.Duration(minutes) * time.Minute
	end := start.Add(total)

	var working time.Duration
	last := clock.DateOf(end)
	// A booking of at most MaxBookingMinutes touches at most this many local dates (a partial
	// day at each end); the bound is an assertion, not a limit a caller can reach.
	const maxDates = MaxBookingMinutes/(24*60) + 2
	day := clock.DateOf(start)
	for dates := 1; ; dates++ {
		if dates > maxDates {
			panic(fmt.Sprintf("SplitWorkingTime: booking from %s for %d minutes spans more than %d dates", start.Format(time.RFC3339Nano), minutes, maxDates))
		}
		if isWorkingDay(day) {
			working += overlap(start, end, workingHours(day))
		}
		if day == last {
			break
		}
		day = day.AddDays(1)
	}

	// Postcondition: the working part is inside the booking.
	if working < 0 || working > total {
		panic(fmt.Sprintf("SplitWorkingTime: %s working time in a booking of %s", working, total))
	}
	workingMinutes := int64((working + time.Minute/2) / time.Minute)
	split := WorkSplit{WorkingMinutes: workingMinutes, OvertimeMinutes: minutes - workingMinutes}
	if split.WorkingMinutes < 0 || split.OvertimeMinutes < 0 || split.WorkingMinutes+split.OvertimeMinutes != minutes {
		panic(fmt.Sprintf("SplitWorkingTime: split %+v of %d minutes", split, minutes))
	}
	return split, nil
}

// isWorkingDay reports whether the Amsterdam date d has working hours: a weekday that is not a
// public holiday.
func isWorkingDay(d clock.LocalDate) bool {
	// Noon UTC is on the same calendar date, so the weekday is the date's own.
	switch time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !IsDutchPublicHoliday(d)
}

// interval is a half-open span of instants [from, to).
type interval struct{ from, to time.Time }

// workingHours returns the instants 09:00 and 17:00 Europe/Amsterdam on date d.
func workingHours(d clock.LocalDate) interval {
	return interval{
		from: time.Date(d.Year, d.Month, d.Day, WorkingDayStartHour, 0, 0, 0, clock.Amsterdam),
		to:   time.Date(d.Year, d.Month, d.Day, WorkingDayEndHour, 0, 0, 0, clock.Amsterdam),
	}
}

// overlap returns how long [start, end) and hours have in common (0 when they do not meet).
func overlap(start, end time.Time, hours interval) time.Duration {
	from, to := start, end
	if hours.from.After(from) {
		from = hours.from
	}
	if hours.to.Before(to) {
		to = hours.to
	}
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// Days after Easter Sunday of the movable public holidays.
const (
	easterMondayOffset = 1
	ascensionDayOffset = 39
	whitSundayOffset   = 49
	whitMondayOffset   = 50
)

// Koningsdag is 27 April, celebrated on Saturday the 26th when the 27th is a Sunday.
const (
	kingsDayMonth         = time.April
	kingsDay              = 27
	kingsDayOnSundayShift = -1
)

// DutchPublicHolidays returns the Dutch general public holidays of year, sorted: the
// "algemeen erkende feestdagen" of the Algemene termijnenwet, art. 3 lid 1:
//
//   - Nieuwjaarsdag, 1 January;
//   - Eerste en Tweede Paasdag, Easter Sunday and Monday;
//   - Koningsdag, 27 April, or Saturday 26 April when the 27th is a Sunday (the King's birthday
//     as it is celebrated; the rule since 2014, which this function applies to every year);
//   - Bevrijdingsdag, 5 May, every year (not only every fifth year, as some collective labour
//     agreements give it off: the law, not a CAO, decides here);
//   - Hemelvaartsdag, Easter + 39 days;
//   - Eerste en Tweede Pinksterdag, Easter + 49 and + 50 days;
//   - Eerste en Tweede Kerstdag, 25 and 26 December.
//
// Art. 3 lid 1 names only the second Easter and Whit days; the first are Sundays, listed here
// so that the calendar reads as people know it (a Sunday is outside working time anyway).
//
// A date on which two holidays fall appears once: Ascension is 5 May when Easter is 27 March
// (2005, 2016; next in 2157).
//
// Good Friday is not a public holiday: art. 3 lid 2 equates it with them only for computing
// statutory time limits, and days equated by royal decree under lid 3 (such as the Friday
// after Ascension) are likewise not holidays. Working hours on them are not overtime.
func DutchPublicHolidays(year int) []clock.LocalDate {
	easter := easterSunday(year)
	holidays := []clock.LocalDate{
		{Year: year, Month: time.January, Day: 1},
		easter,
		easter.AddDays(easterMondayOffset),
		kingsDayOf(year),
		{Year: year, Month: time.May, Day: 5},
		easter.AddDays(ascensionDayOffset),
		easter.AddDays(whitSundayOffset),
		easter.AddDays(whitMondayOffset),
		{Year: year, Month: time.December, Day: 25},
		{Year: year, Month: time.December, Day: 26},
	}
	// Easter is 22 March to 25 April, so Ascension (30 April to 3 June) falls before, on or
	// after Liberation Day: sort rather than trust the order above, then drop a date that
	// appears twice. Insertion sort: ten dates.
	for i := 1; i < len(holidays); i++ {
		for j := i; j > 0 && dateLess(holidays[j], holidays[j-1]); j-- {
			holidays[j], holidays[j-1] = holidays[j-1], holidays[j]
		}
	}
	unique := holidays[:1]
	for _, d := range holidays[1:] {
		if d != unique[len(unique)-1] {
			unique = append(unique, d)
		}
	}
	return unique
}

// IsDutchPublicHoliday reports whether d is one of DutchPublicHolidays(d.Year). It allocates
// nothing: Easter is a few integer operations, cheaper than a cache and its lock.
func IsDutchPublicHoliday(d clock.LocalDate) bool {
	switch {
	case d.Month == time.January && d.Day == 1,
		d.Month == time.May && d.Day == 5,
		d.Month == time.December && (d.Day == 25 || d.Day == 26),
		d == kingsDayOf(d.Year):
		return true
	}
	if d.Month < time.March || d.Month > time.June {
		return false // Easter Sunday is 22 March at the earliest, Whit Monday 14 June at the latest
	}
	switch d.DaysSince(easterSunday(d.Year)) {
	case 0, easterMondayOffset, ascensionDayOffset, whitSundayOffset, whitMondayOffset:
		return true
	}
	return false
}

// kingsDayOf returns the date Koningsdag is celebrated in year.
func kingsDayOf(year int) clock.LocalDate {
	day := clock.LocalDate{Year: year, Month: kingsDayMonth, Day: kingsDay}
	if time.Date(year, kingsDayMonth, kingsDay, 12, 0, 0, 0, time.UTC).Weekday() == time.Sunday {
		return day.AddDays(kingsDayOnSundayShift)
	}
	return day
}

// easterSunday returns the date of Easter Sunday in the Gregorian calendar, by the anonymous
// Gregorian algorithm (Meeus/Jones/Butcher, as in Meeus, Astronomical Algorithms, ch. 8).
func easterSunday(year int) clock.LocalDate {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return clock.LocalDate{Year: year, Month: time.Month(month), Day: day}
}

// dateLess orders dates without a time zone lookup (clock.LocalDate.Before converts to
// instants).
func dateLess(a, b clock.LocalDate) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	if a.Month != b.Month {
		return a.Month < b.Month
	}
	return a.Day < b.Day
}
