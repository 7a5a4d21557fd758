package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress display limits.
const (
	// ProgressRedrawInterval: on a terminal the bar is redrawn at most ~10 times a second.
	ProgressRedrawInterval = 100 * time.Millisecond
	// ProgressStepPercent: elsewhere (a log, a pipe) a line is printed per this many percent.
	ProgressStepPercent = 10
	// ProgressBarWidth is the bar's width in characters, between the brackets.
	ProgressBarWidth = 30
)

// progress shows how far an export is: a bar redrawn in place with \r on a terminal, a line
// every ProgressStepPercent otherwise, so that a log is not flooded. One goroutine uses it.
type progress struct {
	out      io.Writer
	terminal bool
	now      func() time.Time

	total, done int
	bytes       int64
	started     time.Time
	drawnAt     time.Time
	drawnDone   int
	step        int // the last step printed, in ProgressStepPercent
}

// newProgressFor shows progress on stderr, as a bar when it is a terminal.
func newProgressFor(stderr io.Writer) *progress {
	return &progress{out: stderr, terminal: isTerminal(stderr), now: time.Now}
}

// isTerminal says whether w is a character device (a terminal), not a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// start begins counting towards total documents.
func (p *progress) start(total int) {
	p.total, p.started = total, p.now()
	if p.terminal && total > 0 {
		p.draw()
	}
}

// add counts one document of n bytes written.
func (p *progress) add(n int64) {
	p.done++
	p.bytes += n
	if p.total == 0 {
		return
	}
	if p.terminal {
		if p.done == p.total || p.now().Sub(p.drawnAt) >= ProgressRedrawInterval {
			p.draw()
		}
		return
	}
	if step := p.done * (100 / ProgressStepPercent) / p.total; step > p.step {
		p.step = step
		fmt.Fprintf(p.out, "%d/%d invoices (%d %%)  %s  %s\n", p.done, p.total, p.done*100/p.total,
			formatBytes(p.bytes), formatSeconds(p.now().Sub(p.started)))
	}
}

// finish leaves the bar's last state on its line.
func (p *progress) finish() {
	if !p.terminal || p.total == 0 {
		return
	}
	if p.drawnDone != p.done {
		p.draw()
	}
	fmt.Fprintln(p.out)
}

func (p *progress) draw() {
	p.drawnAt, p.drawnDone = p.now(), p.done
	// \x1b[K clears what a longer previous line left.
	fmt.Fprintf(p.out, "\r%s\x1b[K", p.line())
}

// line is "[=====>    ] 512/10000 invoices  1.2 MB  3.4 s".
func (p *progress) line() string {
	filled := ProgressBarWidth
	if p.total > 0 {
		filled = min(p.done*ProgressBarWidth/p.total, ProgressBarWidth)
	}
	bar := strings.Repeat("=", filled)
	if filled < ProgressBarWidth {
		bar += ">" + strings.Repeat(" ", ProgressBarWidth-filled-1)
	}
	return fmt.Sprintf("[%s] %d/%d invoices  %s  %s", bar, p.done, p.total, formatBytes(p.bytes),
		formatSeconds(p.now().Sub(p.started)))
}

// formatBytes is a size in SI units: "512 B", "3.2 kB", "1.2 MB".
func formatBytes(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	value := float64(n) // for display only; never money
	for _, unit := range []string{"kB", "MB", "GB"} {
		value /= 1000
		if value < 999.95 || unit == "GB" {
			return fmt.Sprintf("%.1f %s", value, unit)
		}
	}
	panic("unreachable")
}

// formatSeconds is a duration to a tenth of a second: "3.4 s".
func formatSeconds(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}
