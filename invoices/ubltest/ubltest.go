// Package ubltest runs the European Commission's EN 16931 validation of UBL documents and
// OpenPEPPOL's BIS Billing 3.0 rules, national rules included, as an access point applies them
// (../shared/validation/validate-ubl --peppol, Saxon-HE on Java), from the tests of any package.
package ubltest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Script finds validate-ubl: $LEDGER_VALIDATE_UBL, else shared/validation/validate-ubl beside the
// checkout (the directory holding go.mod).
func Script() (string, error) {
	if s := os.Getenv("LEDGER_VALIDATE_UBL"); s != "" {
		if _, err := os.Stat(s); err != nil {
			return "", err
		}
		return s, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			script := filepath.Join(dir, "..", "shared", "validation", "validate-ubl")
			if _, err := os.Stat(script); err != nil {
				return "", err
			}
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Validate runs validate-ubl over documents that must all be valid.
func Validate(t testing.TB, files ...string) {
	t.Helper()
	Run(t, files, nil)
}

// The validator starts a JVM and compiles the EN 16931 stylesheet for every file (2 to 3 s
// each); the files are shared among at most Processes runs side by side, each
// bounded by Timeout, with the JIT held to its quick first tier.
const (
	Processes = 4
	Timeout   = 2 * time.Minute
	JVMFlags  = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
)

// Run runs shared/validation/validate-ubl over valid and broken documents: each valid
// one must pass and each broken one must fail. Without Java or Saxon the test is skipped, saying
// what to install, unless CI is set: CI must run it.
func Run(t testing.TB, valid, broken []string) {
	t.Helper()
	unavailable := func(why string) {
		t.Helper()
		msg := why + ": the EN 16931 validation of the UBL documents cannot run here " +
			"(apt-get install -y default-jre-headless libsaxonhe-java python3; the script is " +
			"shared/validation/validate-ubl beside the checkout, or set LEDGER_VALIDATE_UBL)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so this fails")
		}
		t.Skip(msg)
	}
	script, err := Script()
	if err != nil {
		unavailable("validate-ubl not found: " + err.Error())
	}
	for _, tool := range []string{"java", "python3"} { // python3 reads Saxon's report
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(tool + " not found")
		}
	}
	jar := os.Getenv("SAXON_JAR")
	if jar == "" {
		jar = "/usr/share/java/Saxon-HE.jar"
	}
	if _, err := os.Stat(jar); err != nil {
		unavailable("Saxon-HE not found at " + jar)
	}

	files := append(append([]string{}, valid...), broken...)
	processes := min(Processes, runtime.NumCPU(), len(files))
	groups := make([][]string, processes)
	for i, f := range files {
		groups[i%processes] = append(groups[i%processes], f)
	}
	type run struct {
		out  []byte
		err  error
		exit int
	}
	runs := make([]run, processes)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, group := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, script, append([]string{"--peppol"}, group...)...)
			cmd.Env = append(os.Environ(), "JAVA_TOOL_OPTIONS="+strings.TrimSpace(os.Getenv("JAVA_TOOL_OPTIONS")+" "+JVMFlags))
			out, err := cmd.CombinedOutput()
			runs[i] = run{out: out, err: err}
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				runs[i].exit = exit.ExitCode()
			}
		}()
	}
	wg.Wait()
	t.Logf("validate-ubl: %d documents in %d runs side by side, %s", len(files), processes, time.Since(start).Round(time.Millisecond))

	var report strings.Builder
	for _, r := range runs {
		report.Write(r.out)
		switch {
		case r.exit == 2:
			unavailable("validate-ubl cannot run: " + strings.TrimSpace(string(r.out)))
		case r.err != nil && r.exit != 1:
			t.Fatalf("validate-ubl: %v\n%s", r.err, r.out)
		}
	}
	t.Log(report.String())
	for _, f := range valid {
		if !strings.Contains(report.String(), f+": valid EN 16931 and PEPPOL BIS 3.0") {
			t.Errorf("%s is not valid EN 16931 and PEPPOL BIS 3.0:\n%s", filepath.Base(f), reportOf(report.String(), f))
		}
	}
	for _, f := range broken {
		if !strings.Contains(report.String(), f+": ") || strings.Contains(report.String(), f+": valid") {
			t.Errorf("%s should break a rule:\n%s", filepath.Base(f), reportOf(report.String(), f))
		}
	}
}

// reportOf is the part of the validator's report about file f.
func reportOf(report, f string) string {
	i := strings.Index(report, f+": ")
	if i < 0 {
		return report
	}
	rest := report[i:]
	if j := strings.Index(rest[1:], "\n/"); j >= 0 {
		return rest[:j+1]
	}
	return rest
}
