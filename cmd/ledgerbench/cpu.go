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
// ticks: busy (user, nice, system, irq, softirq), idle (idle, iowait), and this process's own.
type cpuMark struct {
	busy, idle, self uint64
	ok               bool
}

// markCPU reads /proc/stat and /proc/self/stat; ok is false where they cannot be read.
func markCPU() cpuMark {
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
	if self, err := os.ReadFile("/proc/self/stat"); err == nil {
		// The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
		if i := strings.LastIndexByte(string(self), ')'); i > 0 {
			if g := strings.Fields(string(self)[i+1:]); len(g) > 12 {
				u, _ := strconv.ParseUint(g[11], 10, 64)
				s, _ := strconv.ParseUint(g[12], 10, 64)
				m.self = u + s
			}
		}
	}
	return m
}

// cpuSpent is the CPU a phase used: the machine's and this process's, in seconds, and the share
// of the machine's cores that were busy.
type cpuSpent struct {
	machine, self, busyShare float64
	ok                       bool
}

func spentBetween(from, to cpuMark) cpuSpent {
	if !from.ok || !to.ok || to.busy+to.idle <= from.busy+from.idle {
		return cpuSpent{}
	}
	busy, idle := float64(to.busy-from.busy), float64(to.idle-from.idle)
	return cpuSpent{machine: busy / clockTicks, self: float64(to.self-from.self) / clockTicks, busyShare: busy / (busy + idle), ok: true}
}

// printCPU prints what a phase of events cost the CPU: per event, for the whole machine (a
// database server on it included) and for this process.
func printCPU(phase string, s cpuSpent, events int) {
	if !s.ok {
		return
	}
	fmt.Printf("    CPU during the %s: %.1f µs per event on the machine (%.0f %% of its %d cores busy), %.1f µs in this process\n",
		phase, 1e6*s.machine/float64(events), 100*s.busyShare, runtime.NumCPU(), 1e6*s.self/float64(events))
}
