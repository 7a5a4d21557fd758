package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/stat and /proc/self/stat (100 on every
// Linux this runs on).
const clockTicks = 100

// cpuMark is what the machine and this process had spent on the CPU at an instant, in clock
// ticks: busy (user, nice, system, irq, softirq), idle (idle, iowait), this process's own, and
// the NATS server's process's (-nats-process; 0 when embedded).
type cpuMark struct {
	busy, idle, self, server uint64
	ok                       bool
}

// markCPU reads /proc/stat, /proc/self/stat and, when the NATS server runs apart, its
// process's stat; ok is false where they cannot be read.
func markCPU(ns *natsServer) cpuMark {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuMark{}
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuMark{}
	}
	n := make([]uint64, 8)
	for i := 1; i < 8; i++ {
		n[i], _ = strconv.ParseUint(f[i], 10, 64)
	}
	m := cpuMark{busy: n[1] + n[2] + n[3] + n[6] + n[7], idle: n[4] + n[5], ok: true}
	m.self = processTicks("/proc/self/stat")
	if ns != nil && ns.child != nil && ns.child.Process != nil {
		m.server = processTicks(fmt.Sprintf("/proc/%d/stat", ns.child.Process.Pid))
	}
	return m
}

// processTicks is the CPU a process has spent (user and system), in clock ticks, from its stat
// file (0 where it cannot be read).
func processTicks(stat string) uint64 {
	b, err := os.ReadFile(stat)
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	g := strings.Fields(string(b)[i+1:])
	if len(g) <= 12 {
		return 0
	}
	u, _ := strconv.ParseUint(g[11], 10, 64)
	s, _ := strconv.ParseUint(g[12], 10, 64)
	return u + s
}

// cpuSpent is the CPU a phase used: the machine's, this process's and the NATS server's
// process's (-nats-process), in seconds, and the share of the machine's cores that were busy.
type cpuSpent struct {
	machine, self, server, busyShare float64
	ok                               bool
}

func spentBetween(from, to cpuMark) cpuSpent {
	if !from.ok || !to.ok || to.busy+to.idle <= from.busy+from.idle {
		return cpuSpent{}
	}
	busy, idle := float64(to.busy-from.busy), float64(to.idle-from.idle)
	return cpuSpent{machine: busy / clockTicks, self: float64(to.self-from.self) / clockTicks,
		server: float64(to.server-from.server) / clockTicks, busyShare: busy / (busy + idle), ok: true}
}

// printCPU prints what a phase of events cost the CPU: per event, for the whole machine (a
// database server on it included), for this process and, when it runs apart, for the NATS
// server's process; the rest is the database's (and whatever else the machine ran).
func printCPU(phase string, s cpuSpent, events int) {
	if !s.ok {
		return
	}
	per := func(seconds float64) float64 { return 1e6 * seconds / float64(events) }
	fmt.Printf("    CPU during the %s: %.1f µs per event on the machine (%.0f %% of its %d cores busy), %.1f µs in this process",
		phase, per(s.machine), 100*s.busyShare, runtime.NumCPU(), per(s.self))
	if s.server > 0 {
		fmt.Printf(", %.1f µs in the NATS server's, %.1f µs elsewhere (the database's, and anything else running)",
			per(s.server), max(0, per(s.machine-s.self-s.server)))
	}
	fmt.Println()
}
