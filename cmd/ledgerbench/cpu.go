package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/prometheus/procfs"
)

// cpuMark is what the machine and this process had spent on the CPU at an instant, in seconds:
// busy (user, nice, system, irq, softirq), idle (idle, iowait), this process's own, and the
// NATS server's process's (-nats-process; 0 when embedded).
type cpuMark struct {
	busy, idle, self, server float64
	ok                       bool
}

// markCPU reads the machine's CPU time, this process's and, when the NATS server runs apart,
// its process's (procfs: /proc/stat and each process's stat); ok is false where they cannot be
// read.
func markCPU(ns *natsServer) cpuMark {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return cpuMark{}
	}
	stat, err := fs.Stat()
	if err != nil {
		return cpuMark{}
	}
	c := stat.CPUTotal
	m := cpuMark{busy: c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ, idle: c.Idle + c.Iowait, ok: true}
	m.self = processCPU(os.Getpid())
	if pid := ns.pid(); pid != 0 {
		m.server = processCPU(pid)
	}
	return m
}

// processCPU is the CPU a process has spent (user and system), in seconds (0 where it cannot
// be read).
func processCPU(pid int) float64 {
	return fromProc(pid, func(p procfs.Proc) (float64, error) {
		s, err := p.Stat()
		return s.CPUTime(), err
	})
}

// fromProc reads one figure of a process from /proc (procfs); the zero value where the process
// or the figure cannot be read.
func fromProc[T any](pid int, read func(procfs.Proc) (T, error)) T {
	var zero T
	p, err := procfs.NewProc(pid)
	if err != nil {
		return zero
	}
	v, err := read(p)
	if err != nil {
		return zero
	}
	return v
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
	busy, idle := to.busy-from.busy, to.idle-from.idle
	return cpuSpent{machine: busy, self: to.self - from.self, server: to.server - from.server, busyShare: busy / (busy + idle), ok: true}
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
