package service_test

import (
	"os"
	"testing"

	"ledger/sql/storetest"
)

// The service's tests run on SQLite and, with LEDGER_TEST_POSTGRES set, again on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
