package main

import (
	"os"
	"testing"

	"ledger/sql/storetest"
)

// ledgerctl's tests run against a ledgerd on SQLite and, with LEDGER_TEST_POSTGRES set, again
// on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
