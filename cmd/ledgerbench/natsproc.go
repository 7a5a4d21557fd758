package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"ledger/events"
)

// natsServer is the NATS server a run uses: embedded in this process, as ledgerd's default run
// has it, or in a process of its own (-nats-process), as a deployment has it (deploy/: every
// ledgerd of compose.yaml and kubernetes/ connects to NATS servers apart, with --nats).
type natsServer struct {
	url     string
	options []nats.Option // how to connect (in process, when embedded)
	child   *exec.Cmd     // the server's process (-nats-process)
	stop    func()
}

// startNATS starts the run's NATS server, its JetStream files under dir.
func startNATS(c config, dir string) (*natsServer, error) {
	if !c.natsProcess {
		ns, err := events.StartEmbedded("127.0.0.1:0", dir)
		if err != nil {
			return nil, err
		}
		return &natsServer{url: ns.ClientURL(), options: []nats.Option{nats.InProcessServer(ns)}, stop: ns.Shutdown}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	child := exec.Command(self, "-serve-nats", dir)
	child.Stderr = os.Stderr
	// The server runs on Go's defaults, as a NATS server apart does: GOGC and GOMEMLIMIT given
	// to measure the ledger would otherwise tune the server too (GOGC=off grew it to 2.4 GiB).
	child.Env = slices.DeleteFunc(os.Environ(), func(v string) bool {
		return strings.HasPrefix(v, "GOGC=") || strings.HasPrefix(v, "GOMEMLIMIT=")
	})
	in, err := child.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := child.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		in.Close()
		_ = child.Wait()
		return nil, fmt.Errorf("start the NATS server's process: %w", err)
	}
	s := &natsServer{url: strings.TrimSpace(line), child: child}
	s.stop = func() {
		in.Close() // the child's cue to shut down; it gets the same if this process dies
		done := make(chan struct{})
		go func() { _ = child.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(natsStopTimeout):
			_ = child.Process.Kill()
			<-done
		}
	}
	return s, nil
}

// natsStopTimeout bounds how long the server's process may take to shut down before it is killed.
const natsStopTimeout = 10 * time.Second

// pid is the server's own process's id (-nats-process); 0 when it is embedded.
func (s *natsServer) pid() int {
	if s == nil || s.child == nil || s.child.Process == nil {
		return 0
	}
	return s.child.Process.Pid
}

// peakRSS is the high-water mark of the server's own process (0: embedded, or unknown).
func (s *natsServer) peakRSS() uint64 {
	if pid := s.pid(); pid != 0 {
		return vmHWM(pid)
	}
	return 0
}

// serveNATS is the -serve-nats mode: the embedded server in a process of its own, storing under
// dir. It prints its URL and serves until its standard input closes.
func serveNATS(dir string) error {
	ns, err := events.StartEmbedded("127.0.0.1:0", dir)
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	fmt.Println(ns.ClientURL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
