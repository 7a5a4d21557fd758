// Package testnet gives tests addresses to listen on later.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// FreeAddr returns a loopback address nothing listens on, for a server a test starts later (or
// never, to be refused). The port is chosen below the kernel's ephemeral range (32768 and up on
// Linux), from which every ":0" listener and outgoing connection of the tests running beside it
// take theirs: a port freed there was taken by one of them before the server started on it
// (seen in CI). A port here is free when checked and, nothing else choosing from this range,
// stays free.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue // in use
		}
		l.Close()
		return addr
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}
