package pricing

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"ledger/clock"
)

// date reads YYYY-MM-DD or fails the test.
func date(t testing.TB, s string) clock.LocalDate {
	t.Helper()
	d, err := clock.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// amsterdam reads "YYYY-MM-DD hh:mm[:ss]" as Europe/Amsterdam local time.
func amsterdam(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	at, err := time.ParseInLocation(layout, s, clock.Amsterdam)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// utc reads "YYYY-MM-DD hh:mm" as UTC.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestDutchPublicHolidays(t *testing.T) {
	for _, tc := range []struct {
		name string
		year int
		want []string
	}{
		{"R2_2025_Easter_20_April_Kings_Day_Saturday_26_April_because_27th_is_Sunday", 2025, []string{
			"2025-01-01", "2025-04-20", "2025-04-21", "2025-04-26", "2025-05-05",
			"2025-05-29", "2025-06-08", "2025-06-09", "2025-12-25", "2025-12-26",
		}},
		{"R2_2026_Easter_5_April_Kings_Day_Monday_27_April", 2026, []string{
			"2026-01-01", "2026-04-05", "2026-04-06", "2026-04-27", "2026-05-05",
			"2026-05-14", "2026-05-24", "2026-05-25", "2026-12-25", "2026-12-26",
		}},
		{"R2_2027_Easter_28_March_Ascension_6_May_after_Liberation_Day", 2027, []string{
			"2027-01-01", "2027-03-28", "2027-03-29", "2027-04-27", "2027-05-05",
			"2027-05-06", "2027-05-16", "2027-05-17", "2027-12-25", "2027-12-26",
		}},
		{"R2_2014_first_Kings_Day_on_Saturday_26_April_because_27th_is_Sunday", 2014, []string{
			"2014-01-01", "2014-04-20", "2014-04-21", "2014-04-26", "2014-05-05",
			"2014-05-29", "2014-06-08", "2014-06-09", "2014-12-25", "2014-12-26",
		}},
		{"R2_2016_Ascension_on_Liberation_Day_listed_once", 2016, []string{
			"2016-01-01", "2016-03-27", "2016-03-28", "2016-04-27", "2016-05-05",
			"2016-05-15", "2016-05-16", "2016-12-25", "2016-12-26",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []clock.LocalDate
			for _, s := range tc.want {
				want = append(want, date(t, s))
			}
			got := DutchPublicHolidays(tc.year)
			if !slices.Equal(got, want) {
				t.Fatalf("DutchPublicHolidays(%d) = %v, want %v", tc.year, got, want)
			}
			for _, d := range want {
				if !IsDutchPublicHoliday(d) {
					t.Errorf("IsDutchPublicHoliday(%s) = false", d)
				}
			}
		})
	}
}

func TestIsDutchPublicHoliday(t *testing.T) {
	for _, tc := range []struct {
		name string
		date string
		want bool
	}{
		{"R2_Good_Friday_2026_is_not_a_holiday", "2026-04-03", false},
		{"R2_Good_Friday_2025_is_not_a_holiday", "2025-04-18", false},
		{"R2_Friday_after_Ascension_2026_is_not_a_holiday", "2026-05-15", false},
		{"R2_27_April_2025_Sunday_is_not_Kings_Day", "2025-04-27", false},
		{"R2_28_April_2025_Monday_is_not_Kings_Day", "2025-04-28", false},
		{"R2_26_April_2026_is_not_Kings_Day", "2026-04-26", false},
		{"R2_Christmas_Eve_is_not_a_holiday", "2026-12-24", false},
		{"R2_New_Years_Eve_is_not_a_holiday", "2026-12-31", false},
		{"R2_Liberation_Day_every_year_not_only_lustrum", "2026-05-05", true},
		{"R2_Whit_Monday_2026", "2026-05-25", true},
		{"R2_Ascension_2025", "2025-05-29", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsDutchPublicHoliday(date(t, tc.date)); got != tc.want {
				t.Fatalf("IsDutchPublicHoliday(%s) = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
}

// TestEasterSunday checks the Meeus/Jones/Butcher algorithm against published Easter dates,
// among them the earliest (22 March) and latest (25 April) possible.
func TestEasterSunday(t *testing.T) {
	for _, want := range []string{
		"1818-03-22", "1943-04-25", "2000-04-23", "2008-03-23", "2011-04-24", "2014-04-20",
		"2019-04-21", "2024-03-31", "2025-04-20", "2026-04-05", "2027-03-28", "2038-04-25",
		"2285-03-22",
	} {
		t.Run("R2_Easter_"+want, func(t *testing.T) {
			d := date(t, want)
			if got := easterSunday(d.Year); got != d {
				t.Fatalf("easterSunday(%d) = %s, want %s", d.Year, got, d)
			}
		})
	}
}

// TestDutchPublicHolidaysAgree checks, date by date over two centuries, that the list and the
// predicate agree and that the list is strictly increasing within its year.
func TestDutchPublicHolidaysAgree(t *testing.T) {
	for year := 1990; year <= 2200; year++ {
		holidays := DutchPublicHolidays(year)
		for i, d := range holidays {
			if d.Year != year {
				t.Fatalf("%d: %s is in another year", year, d)
			}
			if i > 0 && !dateLess(holidays[i-1], d) {
				t.Fatalf("%d: %v is not strictly increasing", year, holidays)
			}
		}
		for d := (clock.LocalDate{Year: year, Month: time.January, Day: 1}); d.Year == year; d = d.AddDays(1) {
			if got, want := IsDutchPublicHoliday(d), slices.Contains(holidays, d); got != want {
				t.Fatalf("IsDutchPublicHoliday(%s) = %v, DutchPublicHolidays(%d) contains it: %v", d, got, year, want)
			}
		}
		if goodFriday := easterSunday(year).AddDays(-2); IsDutchPublicHoliday(goodFriday) {
			t.Fatalf("Good Friday %s counted as a public holiday", goodFriday)
		}
	}
}

func TestSplitWorkingTime(t *testing.T) {
	for _, tc := range []struct {
		name              string
		start             time.Time
		minutes           int64
		working, overtime int64
	}{
		{"R2_inside_working_hours_Monday_10_00_to_12_00", amsterdam(t, "2026-03-02 10:00"), 120, 120, 0},
		{"R2_exactly_09_00_to_17_00", amsterdam(t, "2026-03-02 09:00"), 480, 480, 0},
		{"R2_straddles_09_00_08_30_to_09_30", amsterdam(t, "2026-03-02 08:30"), 60, 30, 30},
		{"R2_straddles_17_00_16_30_to_17_30", amsterdam(t, "2026-03-02 16:30"), 60, 30, 30},
		{"R2_ends_at_09_00_all_overtime", amsterdam(t, "2026-03-02 08:00"), 60, 0, 60},
		{"R2_starts_at_17_00_all_overtime", amsterdam(t, "2026-03-02 17:00"), 60, 0, 60},
		{"R2_whole_Monday_from_midnight", amsterdam(t, "2026-03-02 00:00"), 1440, 480, 960},
		// Monday 16:00 to Tuesday 10:00: 16–17 and 9–10 are working time.
		{"R2_across_midnight_Monday_16_00_to_Tuesday_10_00", amsterdam(t, "2026-03-02 16:00"), 18 * 60, 120, 960},
		// Friday 16:00 to Monday 16:00: Friday 16–17 and Monday 9–16, the weekend is overtime.
		{"R2_Friday_16_00_for_3_days_weekend_is_overtime", amsterdam(t, "2026-03-06 16:00"), 3 * 24 * 60, 60 + 420, 4320 - 480},
		{"R2_Saturday_is_overtime", amsterdam(t, "2026-03-28 10:00"), 120, 0, 120},
		{"R2_Kings_Day_Monday_27_April_2026_is_overtime", amsterdam(t, "2026-04-27 10:00"), 120, 0, 120},
		{"R2_Kings_Day_2025_on_Saturday_Monday_28_April_is_working_time", amsterdam(t, "2025-04-28 10:00"), 120, 120, 0},
		{"R2_Liberation_Day_Tuesday_5_May_2026_is_overtime", amsterdam(t, "2026-05-05 10:00"), 120, 0, 120},
		{"R2_Good_Friday_2026_is_working_time", amsterdam(t, "2026-04-03 10:00"), 120, 120, 0},
		{"R2_Easter_Monday_2026_is_overtime", amsterdam(t, "2026-04-06 10:00"), 120, 0, 120},
		{"R2_Ascension_Thursday_14_May_2026_is_overtime", amsterdam(t, "2026-05-14 10:00"), 120, 0, 120},
		{"R2_Friday_after_Ascension_2026_is_working_time", amsterdam(t, "2026-05-15 10:00"), 120, 120, 0},
		{"R2_Whit_Monday_2026_is_overtime", amsterdam(t, "2026-05-25 10:00"), 120, 0, 120},
		{"R2_Christmas_Friday_25_December_2026_is_overtime", amsterdam(t, "2026-12-25 10:00"), 120, 0, 120},
		// Thursday 24 December 16:00 to Monday 28 December 10:00 (90 h): Thursday 16–17 and
		// Monday 9–10; Christmas, Boxing Day (Saturday) and Sunday are overtime.
		{"R2_Christmas_Eve_to_Monday_after_Christmas", amsterdam(t, "2026-12-24 16:00"), 90 * 60, 120, 90*60 - 120},
		{"R2_New_Years_Day_Friday_2027_is_overtime", amsterdam(t, "2027-01-01 10:00"), 120, 0, 120},
		// 29 March 2026, clocks go from 02:00 CET to 03:00 CEST: 01:00 to 04:00 local is 120
		// minutes of elapsed time (TestSplitWorkingTimeMinutesAreElapsed checks the end).
		{"R2_DST_starts_01_00_to_04_00_local_is_120_minutes", amsterdam(t, "2026-03-29 01:00"), 120, 0, 120},
		// 25 October 2026, clocks go from 03:00 CEST back to 02:00 CET: 01:00 to 04:00 local is
		// 240 minutes.
		{"R2_DST_ends_01_00_to_04_00_local_is_240_minutes", amsterdam(t, "2026-10-25 01:00"), 240, 0, 240},
		// Saturday 17:00 CET to Monday 10:00 CEST is 41 h on the clock face, 40 h elapsed:
		// Monday 9–10 is working time.
		{"R2_DST_starts_Saturday_17_00_to_Monday_10_00_is_40_hours", amsterdam(t, "2026-03-28 17:00"), 40 * 60, 60, 40*60 - 60},
		// Friday 16:00 CEST to Monday 10:00 CET is 66 h on the clock face, 67 h elapsed: Friday
		// 16–17 and Monday 9–10 are working time.
		{"R2_DST_ends_Friday_16_00_to_Monday_10_00_is_67_hours", amsterdam(t, "2026-10-23 16:00"), 67 * 60, 120, 67*60 - 120},
		{"R2_UTC_start_summer_08_30Z_is_10_30_CEST_working", utc(t, "2026-07-01 08:30"), 60, 60, 0},
		{"R2_UTC_start_summer_07_30Z_is_09_30_CEST_working", utc(t, "2026-07-01 07:30"), 60, 60, 0},
		{"R2_UTC_start_summer_14_30Z_is_16_30_CEST_straddles_17_00", utc(t, "2026-07-01 14:30"), 60, 30, 30},
		{"R2_UTC_start_winter_07_30Z_is_08_30_CET_straddles_09_00", utc(t, "2026-01-14 07:30"), 60, 30, 30},
		{"R2_zero_minutes", amsterdam(t, "2026-03-02 10:00"), 0, 0, 0},
		{"R2_longest_booking_31_days_of_March_2026", amsterdam(t, "2026-03-01 00:00"), MaxBookingMinutes,
			// March 2026 has 22 weekdays (2–6, 9–13, 16–20, 23–27, 30–31) and no holiday;
			// the clocks go forward on the 29th, so 31 × 24 h of elapsed time end at
			// 1 April 01:00 CEST, before working time.
			22 * 480, MaxBookingMinutes - 22*480},
		// Not on a whole minute: the working part is rounded to whole minutes, half up.
		{"R2_half_a_working_minute_rounds_up_08_59_30", amsterdam(t, "2026-03-02 08:59:30"), 1, 1, 0},
		{"R2_29_working_seconds_round_down_08_59_29", amsterdam(t, "2026-03-02 08:59:29"), 1, 0, 1},
		{"R2_31_working_seconds_round_up_08_59_31", amsterdam(t, "2026-03-02 08:59:31"), 1, 1, 0},
		{"R2_half_a_working_minute_rounds_up_16_59_30", amsterdam(t, "2026-03-02 16:59:30"), 1, 1, 0},
		{"R2_15_working_seconds_round_down_16_59_45", amsterdam(t, "2026-03-02 16:59:45"), 2, 0, 2},
		// 08:59:40 to 17:00:40: all of 09:00–17:00, and 20 + 40 seconds outside it.
		{"R2_overtime_seconds_at_both_ends_add_up_to_a_minute", amsterdam(t, "2026-03-02 08:59:40"), 481, 480, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitWorkingTime(tc.start, tc.minutes)
			if err != nil {
				t.Fatal(err)
			}
			want := WorkSplit{WorkingMinutes: tc.working, OvertimeMinutes: tc.overtime}
			if got != want {
				t.Fatalf("SplitWorkingTime(%s, %d) = %+v, want %+v", tc.start.In(clock.Amsterdam).Format(time.RFC3339), tc.minutes, got, want)
			}
		})
	}
}

// TestSplitWorkingTimeMinutesAreElapsed pins what the DST rows of TestSplitWorkingTime assume:
// a booking's minutes are elapsed time, so 01:00 local plus 120 or 240 minutes reads 04:00 on
// the nights the clocks change.
func TestSplitWorkingTimeMinutesAreElapsed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		start   string
		minutes int64
	}{
		{"R2_DST_starts_29_March_2026", "2026-03-29 01:00", 120},
		{"R2_DST_ends_25_October_2026", "2026-10-25 01:00", 240},
	} {
		t.Run(tc.name, func(t *testing.T) {
			end := amsterdam(t, tc.start).Add(time.Duration(tc.minutes) * time.Minute).In(clock.Amsterdam)
			if end.Hour() != 4 || end.Minute() != 0 {
				t.Fatalf("%s + %d minutes = %s, want 04:00 local", tc.start, tc.minutes, end.Format(time.RFC3339))
			}
		})
	}
}

func TestSplitWorkingTimeRefuses(t *testing.T) {
	monday := amsterdam(t, "2026-03-02 10:00")
	for _, tc := range []struct {
		name    string
		start   time.Time
		minutes int64
	}{
		{"R2_negative_minutes", monday, -1},
		{"R2_more_than_MaxBookingMinutes", monday, MaxBookingMinutes + 1},
		{"R2_no_start", time.Time{}, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			split, err := SplitWorkingTime(tc.start, tc.minutes)
			if !errors.Is(err, ErrInvalidBooking) {
				t.Fatalf("SplitWorkingTime(%s, %d) = %+v, %v; want an error wrapping ErrInvalidBooking", tc.start, tc.minutes, split, err)
			}
		})
	}
}

// bruteForceWorkingMinutes counts, minute by minute, the minutes from start (on a whole
// minute) that begin inside working time: the reference SplitWorkingTime must agree with.
func bruteForceWorkingMinutes(start time.Time, minutes int64) int64 {
	var working int64
	for i := range minutes {
		local := start.Add(time.Duration(i) * time.Minute).In(clock.Amsterdam)
		switch local.Weekday() {
		case time.Saturday, time.Sunday:
			continue
		}
		if local.Hour() < WorkingDayStartHour || local.Hour() >= WorkingDayEndHour {
			continue
		}
		if IsDutchPublicHoliday(clock.DateOf(local)) {
			continue
		}
		working++
	}
	return working
}

// randomBookingStart returns a start in 2024–2028, on a whole minute when wholeMinute: a
// quarter of them within three days of a DST change or a public holiday, where the edges are.
func randomBookingStart(random *rand.Rand, wholeMinute bool) time.Time {
	const years = 5
	from := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
	var start time.Time
	if random.IntN(4) == 0 {
		year := 2024 + random.IntN(years)
		edges := []time.Time{
			lastSunday(year, time.March), lastSunday(year, time.October),
		}
		for _, d := range DutchPublicHolidays(year) {
			edges = append(edges, d.Start())
		}
		edge := edges[random.IntN(len(edges))]
		start = edge.Add(time.Duration(random.Int64N(int64(6*24*time.Hour))) - 3*24*time.Hour)
	} else {
		start = from.Add(time.Duration(random.Int64N(int64(years * 365 * 24 * time.Hour))))
	}
	if wholeMinute {
		start = start.Truncate(time.Minute)
	}
	return start
}

// lastSunday returns 00:00 Amsterdam on the last Sunday of month: the DST changes are on the
// last Sundays of March and October.
func lastSunday(year int, month time.Month) time.Time {
	d := clock.LocalDate{Year: year, Month: month + 1, Day: 1}.AddDays(-1)
	for time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday() != time.Sunday {
		d = d.AddDays(-1)
	}
	return d.Start()
}

// TestSplitWorkingTimeProperties runs random bookings: the parts are never negative and add up
// to the booking, and for whole-minute starts of up to three days the split equals a
// minute-by-minute count.
func TestSplitWorkingTimeProperties(t *testing.T) {
	const (
		cases               = 2_000
		bruteForceMaxMinute = 3 * 24 * 60
	)
	random := rand.New(rand.NewPCG(2026, 9))
	for i := range cases {
		wholeMinute := i%2 == 0
		start := randomBookingStart(random, wholeMinute)
		var minutes int64
		switch {
		case wholeMinute:
			minutes = random.Int64N(bruteForceMaxMinute + 1)
		case random.IntN(2) == 0:
			minutes = random.Int64N(600)
		default:
			minutes = random.Int64N(MaxBookingMinutes + 1)
		}
		split, err := SplitWorkingTime(start, minutes)
		if err != nil {
			t.Fatalf("SplitWorkingTime(%s, %d): %v", start.Format(time.RFC3339Nano), minutes, err)
		}
		if split.WorkingMinutes < 0 || split.OvertimeMinutes < 0 || split.WorkingMinutes+split.OvertimeMinutes != minutes {
			t.Fatalf("SplitWorkingTime(%s, %d) = %+v: parts negative or not adding up", start.Format(time.RFC3339Nano), minutes, split)
		}
		if !wholeMinute {
			continue
		}
		if want := bruteForceWorkingMinutes(start, minutes); split.WorkingMinutes != want {
			t.Fatalf("SplitWorkingTime(%s, %d) = %+v, minute by minute %d working",
				start.In(clock.Amsterdam).Format(time.RFC3339), minutes, split, want)
		}
	}
}

// BenchmarkSplitWorkingTime splits a 90-minute booking that straddles 09:00.
func BenchmarkSplitWorkingTime(b *testing.B) {
	start := amsterdam(b, "2026-03-02 08:15")
	b.ReportAllocs()
	for b.Loop() {
		split, err := SplitWorkingTime(start, 90)
		if err != nil || split.WorkingMinutes != 45 {
			b.Fatalf("split %+v, %v; want 45 working minutes", split, err)
		}
	}
}
