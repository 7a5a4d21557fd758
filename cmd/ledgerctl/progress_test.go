package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) advance(d time.Duration) { c.now = c.now.Add(d) }
func newFakeClock() *fakeClock               { return &fakeClock{now: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)} }
func progressOn(out *bytes.Buffer, terminal bool, c *fakeClock) *progress {
	return &progress{out: out, terminal: terminal, now: c.Now}
}

func TestProgress(t *testing.T) {
	t.Run("R5_export_progress_bar_text", func(t *testing.T) {
		for _, tc := range []struct {
			done, total int
			bytes       int64
			elapsed     time.Duration
			want        string
		}{
			{0, 10000, 0, 0, "[>                             ] 0/10000 invoices  0 B  0.0 s"},
			{512, 10000, 1_234_567, 3400 * time.Millisecond, "[=>                            ] 512/10000 invoices  1.2 MB  3.4 s"},
			{5000, 10000, 999, 61 * time.Second, "[===============>              ] 5000/10000 invoices  999 B  61.0 s"},
			{10000, 10000, 24_000_000_000, time.Second, "[==============================] 10000/10000 invoices  24.0 GB  1.0 s"},
		} {
			c := newFakeClock()
			p := progressOn(&bytes.Buffer{}, true, c)
			p.start(tc.total)
			p.done, p.bytes = tc.done, tc.bytes
			c.advance(tc.elapsed)
			if got := p.line(); got != tc.want {
				t.Errorf("\ngot  %q\nwant %q", got, tc.want)
			}
		}
	})

	t.Run("R5_export_progress_redrawn_at_most_10_times_a_second_on_a_terminal", func(t *testing.T) {
		var out bytes.Buffer
		c := newFakeClock()
		p := progressOn(&out, true, c)
		p.start(1000)
		for range 1000 { // 1000 documents in 2 s
			c.advance(2 * time.Millisecond)
			p.add(1000)
		}
		p.finish()
		draws := strings.Count(out.String(), "\r")
		// The first draw, one per 100 ms over 2 s, the last.
		if draws < 20 || draws > 22 {
			t.Errorf("%d redraws in 2 s, want about 20", draws)
		}
		last := out.String()[strings.LastIndex(out.String(), "\r")+1:]
		if want := "[==============================] 1000/1000 invoices  1.0 MB  2.0 s\x1b[K\n"; last != want {
			t.Errorf("last draw %q, want %q", last, want)
		}
	})

	t.Run("R5_export_progress_a_line_every_10_percent_elsewhere", func(t *testing.T) {
		var out bytes.Buffer
		c := newFakeClock()
		p := progressOn(&out, false, c)
		p.start(95)
		for range 95 {
			c.advance(100 * time.Millisecond)
			p.add(2000)
		}
		p.finish()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 10 || strings.Contains(out.String(), "\r") {
			t.Fatalf("%d lines, want 10 without \\r:\n%s", len(lines), out.String())
		}
		if want := "10/95 invoices (10 %)  20.0 kB  1.0 s"; lines[0] != want {
			t.Errorf("first line %q, want %q", lines[0], want)
		}
		if want := "95/95 invoices (100 %)  190.0 kB  9.5 s"; lines[9] != want {
			t.Errorf("last line %q, want %q", lines[9], want)
		}
	})

	t.Run("R5_export_progress_nothing_for_nothing", func(t *testing.T) {
		for _, terminal := range []bool{true, false} {
			var out bytes.Buffer
			p := progressOn(&out, terminal, newFakeClock())
			p.start(0)
			p.finish()
			if out.Len() != 0 {
				t.Errorf("terminal %v: %q for an empty export", terminal, out.String())
			}
		}
	})

	t.Run("R5_export_progress_bar_only_on_a_terminal", func(t *testing.T) {
		if isTerminal(&bytes.Buffer{}) {
			t.Error("a buffer taken for a terminal")
		}
	})
}
