package main

import (
	"fmt"
	"runtime/metrics"
)

// gcMark is what the Go runtime had done at an instant: collections, their CPU (the runtime's
// estimate, assists included) and the bytes allocated, all cumulative.
type gcMark struct {
	cycles    uint64
	cpu       float64
	allocated uint64
}

var gcMetrics = []string{"/gc/cycles/total:gc-cycles", "/cpu/classes/gc/total:cpu-seconds", "/gc/heap/allocs:bytes"}

func markGC() gcMark {
	s := make([]metrics.Sample, len(gcMetrics))
	for i, name := range gcMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	var m gcMark
	if s[0].Value.Kind() == metrics.KindUint64 {
		m.cycles = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		m.cpu = s[1].Value.Float64()
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		m.allocated = s[2].Value.Uint64()
	}
	return m
}

// printGC prints what the garbage collector did between two marks, per event: the memory a
// pipeline allocates, and what collecting it cost under the memory limit (issue 19).
func printGC(from, to gcMark, events int) {
	fmt.Printf("    garbage collection: %d cycles, %.2f s of CPU (%.1f µs per event); %.1f KiB allocated per event\n",
		to.cycles-from.cycles, to.cpu-from.cpu, 1e6*(to.cpu-from.cpu)/float64(events),
		float64(to.allocated-from.allocated)/1024/float64(events))
}
