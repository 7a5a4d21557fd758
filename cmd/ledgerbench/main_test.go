package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ledgerbench runs end to end on a small stream: with the NATS server embedded, in a process of
// its own (-nats-process, whose process is gone afterwards) and, when LEDGER_TEST_POSTGRES names
// a server, on PostgreSQL; each run charges every event once and checks the invariants.
func TestLedgerbench_small_runs(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ledgerbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runs := [][]string{{}, {"-nats-process", "-group", "8"}}
	if pg := os.Getenv("LEDGER_TEST_POSTGRES"); pg != "" {
		runs = append(runs, []string{"-db", pg, "-nats-process"})
	}
	for _, extra := range runs {
		dir := t.TempDir()
		args := append([]string{"-events", "3000", "-accounts", "40", "-dir", dir, "-keep"}, extra...)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		late := ctx.Err() != nil
		cancel()
		if late {
			t.Fatalf("ledgerbench %s did not finish in 3 minutes:\n%s", strings.Join(args, " "), out)
		}
		if err != nil {
			t.Fatalf("ledgerbench %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		text := string(out)
		for _, want := range []string{"3000 charges in the database", "invariants hold", "garbage collection: ", "allocated per event", "ratio (2)/(1)"} {
			if !strings.Contains(text, want) {
				t.Errorf("ledgerbench %s: no %q in its output:\n%s", strings.Join(extra, " "), want, text)
			}
		}
		apart := strings.Contains(text, "the NATS server's own process (-nats-process): resident")
		if want := slices.Contains(extra, "-nats-process"); apart != want {
			t.Errorf("ledgerbench %s: the NATS server's own process reported: %v, want %v\n%s", strings.Join(extra, " "), apart, want, text)
		}
		if pids := serving(t, dir); len(pids) > 0 {
			t.Errorf("ledgerbench %s: its NATS server's process is still running (pids %v)", strings.Join(extra, " "), pids)
		}
	}
}

// serving returns the processes whose command line names dir (a -serve-nats child of a run).
func serving(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc: cannot look for processes left behind")
	}
	var pids []string
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), "-serve-nats") && strings.Contains(string(cmd), dir) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
