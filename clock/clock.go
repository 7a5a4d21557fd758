// Package clock is the one source of time for the ledger. Production uses the wall clock; with
// --test-clock the time is set through the API, so that calendar rules (usable-next-day,
// expiry, billing runs, interest) can be exercised in seconds. Nothing else calls time.Now.
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock tells the current instant.
type Clock interface {
	Now() time.Time
}

// System is the wall clock, in UTC.
type System struct{}

// Now returns the wall-clock time in UTC.
func (System) Now() time.Time { return time.Now().UTC() }

// Test is a clock that only moves when told to, and only forward. Until it is first set it is
// not pinned: it reads start, and the first Set may move it anywhere (a test begins by choosing
// its day); from then on it moves only forward.
type Test struct {
	mu     sync.RWMutex
	now    time.Time
	pinned bool
}

// NewTest returns a test clock standing at start; pinned says whether it was already set (a
// restart restoring the time it stood at).
func NewTest(start time.Time, pinned bool) *Test { return &Test{now: start.UTC(), pinned: pinned} }

// Now returns the clock's current instant.
func (c *Test) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.now
}

// ErrBackwards is returned by Set when asked to move the clock back: what has run stays run.
var ErrBackwards = fmt.Errorf("the test clock only moves forward")

// Set moves the clock to t, which must not be before the current instant.
func (c *Test) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pinned && t.Before(c.now) {
		return fmt.Errorf("%w: it stands at %s, asked for %s", ErrBackwards, c.now.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	c.now = t.UTC()
	c.pinned = true
	return nil
}

// Amsterdam is the time zone of every calendar rule (T&C 3.2: billing periods use CET/CEST).
var Amsterdam = mustZone("Europe/Amsterdam")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("time zone %s: %v (is tzdata installed? the binary embeds it via time/tzdata)", name, err))
	}
	return loc
}

// LocalDate is a calendar date in Europe/Amsterdam.
type LocalDate struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the Amsterdam calendar date of instant t.
func DateOf(t time.Time) LocalDate {
	y, m, d := t.In(Amsterdam).Date()
	return LocalDate{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (LocalDate, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return LocalDate{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return LocalDate{t.Year(), t.Month(), t.Day()}, nil
}

// Start returns the instant 00:00 Europe/Amsterdam on the date.
func (d LocalDate) Start() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Amsterdam).UTC()
}

// AddDays returns the date n calendar days later.
func (d LocalDate) AddDays(n int) LocalDate {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return LocalDate{t.Year(), t.Month(), t.Day()}
}

// AddMonthsClamped returns the same day n months later, clamped to the month's last day
// (29 February plus 12 months is 28 February).
func (d LocalDate) AddMonthsClamped(n int) LocalDate {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 12, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	day := d.Day
	if day > last {
		day = last
	}
	return LocalDate{first.Year(), first.Month(), day}
}

// String formats the date as YYYY-MM-DD.
func (d LocalDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Before reports whether d is an earlier date than o.
func (d LocalDate) Before(o LocalDate) bool { return d.Start().Before(o.Start()) }

// DaysSince returns how many calendar days d is after o (negative when before).
func (d LocalDate) DaysSince(o LocalDate) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(o.Year, o.Month, o.Day, 12, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Round(24*time.Hour) / (24 * time.Hour))
}
