// Command ledgerctl is the finance and operations CLI over ledgerd's HTTP API (CONTRACT 3):
// invoices listed, shown and exported (CSV, UBL), payments booked, disputes opened and
// resolved, billing runs asked for, agreed prices set and the prices in force listed, liability
// claims filed and the liability shown. `ledgerctl help` lists every command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "ledger/sql/postgres" // the engines db copy can name
	_ "ledger/sql/sqlite"
)

func main() {
	// An interrupt cancels the requests in flight; an export then removes its temporary files.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
