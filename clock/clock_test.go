package clock_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"ledger/clock"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// CONTRACT 3.9: the test clock moves only forward once set; a test first chooses its day.
func TestTestClock(t *testing.T) {
	t.Run("reads_its_start_in_UTC", func(t *testing.T) {
		start := time.Date(2026, 3, 10, 10, 0, 0, 0, clock.Amsterdam)
		c := clock.NewTest(start, false)
		if got := c.Now(); !got.Equal(start) || got.Location() != time.UTC {
			t.Errorf("Now() = %v, want %v in UTC", got, start)
		}
	})
	t.Run("unpinned_first_Set_may_go_backwards", func(t *testing.T) {
		c := clock.NewTest(utc("2026-03-10T09:00:00Z"), false)
		if err := c.Set(utc("2026-01-01T00:00:00Z")); err != nil {
			t.Fatalf("first Set backwards: %v", err)
		}
		if got := c.Now(); !got.Equal(utc("2026-01-01T00:00:00Z")) {
			t.Errorf("Now() = %v, want 2026-01-01", got)
		}
	})
	t.Run("pinned_after_first_Set_only_forward", func(t *testing.T) {
		c := clock.NewTest(utc("2026-03-10T09:00:00Z"), false)
		if err := c.Set(utc("2026-04-01T00:00:00Z")); err != nil {
			t.Fatal(err)
		}
		err := c.Set(utc("2026-03-31T23:59:59Z"))
		if !errors.Is(err, clock.ErrBackwards) {
			t.Errorf("Set backwards = %v, want ErrBackwards", err)
		}
		if got := c.Now(); !got.Equal(utc("2026-04-01T00:00:00Z")) {
			t.Errorf("a refused Set moved the clock to %v", got)
		}
		if err := c.Set(utc("2026-04-01T00:00:00Z")); err != nil {
			t.Errorf("Set to the same instant: %v", err)
		}
		if err := c.Set(utc("2027-04-01T00:00:00Z")); err != nil {
			t.Errorf("Set forward: %v", err)
		}
	})
	t.Run("restored_pinned_refuses_backwards", func(t *testing.T) {
		c := clock.NewTest(utc("2026-04-01T00:00:00Z"), true)
		if err := c.Set(utc("2026-03-01T00:00:00Z")); !errors.Is(err, clock.ErrBackwards) {
			t.Errorf("Set backwards on a restored clock = %v, want ErrBackwards", err)
		}
	})
	t.Run("Set_stores_UTC", func(t *testing.T) {
		c := clock.NewTest(utc("2026-03-10T09:00:00Z"), false)
		c.Set(time.Date(2026, 3, 11, 10, 0, 0, 0, clock.Amsterdam))
		if got := c.Now(); got.Location() != time.UTC || !got.Equal(utc("2026-03-11T09:00:00Z")) {
			t.Errorf("Now() = %v, want 2026-03-11T09:00:00Z in UTC", got)
		}
	})
	t.Run("concurrent_forward_Sets_never_go_back", func(t *testing.T) {
		c := clock.NewTest(utc("2026-03-10T09:00:00Z"), true)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 100; j++ {
					prev := c.Now()
					c.Set(prev.Add(time.Second)) // may lose to another goroutine: refused, not applied
					if c.Now().Before(prev) {
						t.Error("the clock went back")
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// T&C 3.2: calendar rules use Europe/Amsterdam; a day starts at 00:00 there, whatever UTC says.
func TestLocalDateStart(t *testing.T) {
	tests := []struct {
		date string
		want string
	}{
		{"2026-01-15", "2026-01-14T23:00:00Z"}, // CET, UTC+1
		{"2026-03-28", "2026-03-27T23:00:00Z"},
		{"2026-03-29", "2026-03-28T23:00:00Z"}, // CET→CEST at 02:00 that day: midnight is still CET
		{"2026-03-30", "2026-03-29T22:00:00Z"}, // CEST, UTC+2
		{"2026-07-01", "2026-06-30T22:00:00Z"},
		{"2026-10-25", "2026-10-24T22:00:00Z"}, // CEST→CET at 03:00 that day: midnight is still CEST
		{"2026-10-26", "2026-10-25T23:00:00Z"}, // CET again
	}
	for _, tc := range tests {
		d, err := clock.ParseDate(tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Start(); !got.Equal(utc(tc.want)) || got.Location() != time.UTC {
			t.Errorf("%s.Start() = %v, want %s", tc.date, got, tc.want)
		}
		if back := clock.DateOf(d.Start()); back != d {
			t.Errorf("DateOf(%s.Start()) = %s", tc.date, back)
		}
	}
	t.Run("DST_days_are_23_and_25_hours", func(t *testing.T) {
		spring, _ := clock.ParseDate("2026-03-29")
		if h := spring.AddDays(1).Start().Sub(spring.Start()); h != 23*time.Hour {
			t.Errorf("2026-03-29 lasts %v, want 23h", h)
		}
		autumn, _ := clock.ParseDate("2026-10-25")
		if h := autumn.AddDays(1).Start().Sub(autumn.Start()); h != 25*time.Hour {
			t.Errorf("2026-10-25 lasts %v, want 25h", h)
		}
	})
}

func TestDateOf(t *testing.T) {
	tests := []struct{ at, want string }{
		{"2026-03-28T22:59:59Z", "2026-03-28"},
		{"2026-03-28T23:00:00Z", "2026-03-29"}, // 00:00 CET
		{"2026-03-29T21:59:59Z", "2026-03-29"}, // 23:59:59 CEST
		{"2026-03-29T22:00:00Z", "2026-03-30"},
		{"2026-12-31T23:00:00Z", "2027-01-01"}, // new year in Amsterdam an hour before UTC
	}
	for _, tc := range tests {
		if got := clock.DateOf(utc(tc.at)).String(); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

// R9, R13: a year or a month later, clamped to the month's last day.
func TestAddMonthsClamped(t *testing.T) {
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2028-02-29", 12, "2029-02-28"},
		{"2028-02-29", 48, "2032-02-29"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2027-03-01", -3, "2026-12-01"},
		{"2026-12-15", 1, "2027-01-15"},
		{"2026-05-31", -3, "2026-02-28"},
		{"2026-03-10", 0, "2026-03-10"},
		{"2026-03-10", 24, "2028-03-10"},
	}
	for _, tc := range tests {
		d, _ := clock.ParseDate(tc.from)
		if got := d.AddMonthsClamped(tc.months).String(); got != tc.want {
			t.Errorf("%s + %d months = %s, want %s", tc.from, tc.months, got, tc.want)
		}
	}
}

func TestLocalDate(t *testing.T) {
	t.Run("AddDays_across_DST_and_years", func(t *testing.T) {
		for _, tc := range []struct {
			from string
			days int
			want string
		}{
			{"2026-03-28", 1, "2026-03-29"},
			{"2026-03-29", 1, "2026-03-30"},
			{"2026-10-25", 1, "2026-10-26"},
			{"2026-12-31", 1, "2027-01-01"},
			{"2028-02-28", 1, "2028-02-29"},
			{"2026-03-01", -1, "2026-02-28"},
		} {
			d, _ := clock.ParseDate(tc.from)
			if got := d.AddDays(tc.days).String(); got != tc.want {
				t.Errorf("%s + %d days = %s, want %s", tc.from, tc.days, got, tc.want)
			}
		}
	})
	t.Run("ParseDate_refuses_non_dates", func(t *testing.T) {
		for _, s := range []string{"2026-02-30", "2026-13-01", "2026-3-1", "20260301", "", "2026-03-01T00:00:00Z"} {
			if d, err := clock.ParseDate(s); err == nil {
				t.Errorf("ParseDate(%q) = %s, want an error", s, d)
			}
		}
	})
	t.Run("Before", func(t *testing.T) {
		a, _ := clock.ParseDate("2026-03-29")
		b, _ := clock.ParseDate("2026-03-30")
		if !a.Before(b) || b.Before(a) || a.Before(a) {
			t.Errorf("Before is not a strict order on %s and %s", a, b)
		}
	})
}

func TestDaysSince(t *testing.T) {
	for _, c := range []struct {
		d, o clock.LocalDate
		want int
	}{
		{clock.LocalDate{2026, time.December, 7}, clock.LocalDate{2026, time.April, 1}, 250},
		{clock.LocalDate{2026, time.March, 30}, clock.LocalDate{2026, time.March, 28}, 2}, // across the clocks going forward
		{clock.LocalDate{2026, time.April, 1}, clock.LocalDate{2026, time.April, 1}, 0},
		{clock.LocalDate{2026, time.January, 1}, clock.LocalDate{2026, time.January, 2}, -1},
	} {
		if got := c.d.DaysSince(c.o); got != c.want {
			t.Errorf("%s.DaysSince(%s) = %d, want %d", c.d, c.o, got, c.want)
		}
	}
}
