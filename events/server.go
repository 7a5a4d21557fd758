package events

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedReadyTimeout bounds how long the embedded server may take to start.
const EmbeddedReadyTimeout = 30 * time.Second

// StartEmbedded starts a NATS server with JetStream inside the process, listening on listen
// ("127.0.0.1:4222"; port 0 = any free port) with its store under storeDir.
func StartEmbedded(listen, storeDir string) (*server.Server, error) {
	ns, _, err := StartEmbeddedWithUsers(listen, storeDir, nil)
	return ns, err
}

// StartEmbeddedWithUsers starts the embedded server as StartEmbedded does, taking only the
// users of the file (LoadNATSUsers) and ledgerd's own, whose password it returns; with no
// users, anyone who reaches it may do anything (the password is then "").
func StartEmbeddedWithUsers(listen, storeDir string, users []NATSUser) (*server.Server, string, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, "", fmt.Errorf("--nats-listen %q: want HOST:PORT: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, "", fmt.Errorf("--nats-listen %q: bad port", listen)
	}
	if port != 0 {
		// Say plainly when the port is taken (often by a NATS server already running there),
		// and how to get out of the way, instead of the server's bare bind error.
		l, err := net.Listen("tcp", listen)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, "", fmt.Errorf("the embedded NATS server cannot listen on %s: the address is in use "+
					"(is another NATS server running there?). Use --nats-listen 127.0.0.1:0 (any free port) or another "+
					"address for the embedded server, or --nats nats://%s to use the server that is there", listen, listen)
			}
			return nil, "", fmt.Errorf("the embedded NATS server cannot listen on %s: %w", listen, err)
		}
		l.Close()
	} else {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "ledgerd-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 1 << 20,
	}
	password := ""
	if len(users) > 0 {
		var err error
		if opts.Users, password, err = embeddedAuth(users); err != nil {
			return nil, "", err
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, "", fmt.Errorf("embedded NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(EmbeddedReadyTimeout) {
		ns.Shutdown()
		return nil, "", fmt.Errorf("the embedded NATS server on %s was not ready within %s", listen, EmbeddedReadyTimeout)
	}
	return ns, password, nil
}
