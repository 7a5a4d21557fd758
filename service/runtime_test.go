package service_test

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"ledger/service"
)

func TestMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // the test's own environment must not decide
	defer debug.SetMemoryLimit(math.MaxInt64)
	current := func() int64 { return debug.SetMemoryLimit(-1) }
	for _, c := range []struct {
		name, flag string
		container  int64
		want       int64 // math.MaxInt64: none
		says       string
	}{
		{"no_container_no_flag_no_limit", "", 0, math.MaxInt64, "none"},
		{"container_limit_90_percent", "", 1 << 30, 966367641, "of the container's 1024 MiB"},
		{"flag_wins_over_the_container", "200MiB", 1 << 30, 200 << 20, "200 MiB (--memory-limit)"},
		{"off", "off", 1 << 30, math.MaxInt64, "none (--memory-limit off)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			says, err := service.MemoryLimit(c.flag, c.container)
			if err != nil || current() != c.want || !strings.Contains(says, c.says) {
				t.Fatalf("MemoryLimit(%q, %d) = %q, %v, limit %d; want %d, saying %q", c.flag, c.container, says, err, current(), c.want, c.says)
			}
		})
	}
	t.Run("GOMEMLIMIT_wins", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "300MiB")
		debug.SetMemoryLimit(math.MaxInt64)
		if says, err := service.MemoryLimit("200MiB", 1<<30); err != nil || says != "GOMEMLIMIT=300MiB" || current() != math.MaxInt64 {
			t.Fatalf("= %q, %v, limit %d; want GOMEMLIMIT named and nothing set here (the runtime read it at start)", says, err, current())
		}
	})
	if _, err := service.MemoryLimit("lots", 0); err == nil || !strings.Contains(err.Error(), "--memory-limit") {
		t.Errorf("a wrong size: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"209715200": 200 << 20, "200MiB": 200 << 20, "1GiB": 1 << 30, "512KiB": 512 << 10, "64B": 64} {
		if got, err := service.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1MiB", "200MB", "1.5GiB", "99999999999GiB"} {
		if _, err := service.ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// The collector's target follows the memory limit (LimitedGCPercent under one, with the NATS
// server apart), unless GOGC is set.
func TestTuneRuntime_collector_target(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for _, c := range []struct {
		gogc, limit string
		embedded    bool
		want        int
	}{
		{"", "200MiB", false, service.LimitedGCPercent},
		{"", "200MiB", true, service.DefaultGCPercent},
		{"", "off", false, service.DefaultGCPercent},
		{"150", "200MiB", false, 33}, // GOGC set: left as it was (33, set below)
	} {
		t.Setenv("GOGC", c.gogc)
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(33)
		if _, err := service.TuneRuntime(c.limit, c.embedded); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetGCPercent(33); got != c.want {
			t.Errorf("GOGC=%q, --memory-limit %s, NATS embedded %v: the collector's target is %d; want %d", c.gogc, c.limit, c.embedded, got, c.want)
		}
	}
}
