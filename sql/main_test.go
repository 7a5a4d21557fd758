package sql_test

import (
	"os"
	"testing"

	"ledger/sql/storetest"
)

// The store's tests are the store contract: they run on SQLite and, with LEDGER_TEST_POSTGRES
// set, on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
