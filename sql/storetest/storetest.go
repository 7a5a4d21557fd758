// Package storetest runs a package's tests against every store engine: always on SQLite, and
// once more on PostgreSQL when LEDGER_TEST_POSTGRES names a server (postgres://USER@HOST/DB;
// .ci/run sets it). Each test's database is a fresh PostgreSQL database that the run creates and
// drops, so the tests see exactly what they see on a new SQLite file.
//
// A package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
//
// and opens its databases with storetest.URL(path) where it used "sqlite://"+path.
package storetest

import (
	"context"
	stdsql "database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ledger/sql/postgres"
	_ "ledger/sql/sqlite" // the engines a test can name

	"ledger/sql"
)

// PostgresPropertyChecks is how many cases a rapid property test runs on PostgreSQL (SQLite
// runs rapid's default, 100).
const PostgresPropertyChecks = 25

// EnvPostgres names the PostgreSQL server the tests may use.
const EnvPostgres = "LEDGER_TEST_POSTGRES"

var (
	mu         sync.Mutex
	onPostgres bool                  // the second run
	server     string                // LEDGER_TEST_POSTGRES
	databases  = map[string]string{} // sqlite path → the PostgreSQL database standing for it
	template   string                // the migrated database the others are copied from
	runID      = fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
)

// Main runs the package's tests on SQLite and then, when LEDGER_TEST_POSTGRES is set, on
// PostgreSQL, and returns the exit code: non-zero if either run failed.
func Main(m *testing.M) int {
	server = os.Getenv(EnvPostgres)
	code := m.Run()
	if server == "" {
		return code
	}
	fmt.Printf("=== the same tests on PostgreSQL (%s)\n", EnvPostgres)
	mu.Lock()
	onPostgres = true
	mu.Unlock()
	// Property tests open a database per case; on PostgreSQL each is a CREATE DATABASE. The
	// rules they check are the engine-neutral code's, run in full on SQLite above: here a
	// quarter of the cases prove the engine agrees.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		_ = f.Value.Set(strconv.Itoa(PostgresPropertyChecks))
	}
	if pg := m.Run(); pg != 0 {
		code = pg
	}
	dropAll()
	return code
}

// Postgres reports whether the tests run on PostgreSQL now.
func Postgres() bool {
	mu.Lock()
	defer mu.Unlock()
	return onPostgres
}

// URL returns the --db URL of the database that stands for the SQLite file at path: that file,
// or on PostgreSQL a database created for it on first use (the same one for the same path, so
// a test that reopens its store finds its data).
func URL(path string) string {
	mu.Lock()
	defer mu.Unlock()
	if !onPostgres {
		return "sqlite://" + path
	}
	return postgresURL(path)
}

// postgresURL is URL on PostgreSQL (mu held).
func postgresURL(path string) string {
	name, ok := databases[path]
	if !ok {
		name = fmt.Sprintf("ledgertest_%s_%d", runID, len(databases)+1)
		if err := createDatabase(name); err != nil {
			panic(fmt.Sprintf("storetest: create database %s on %s: %v", name, EnvPostgres, err))
		}
		databases[path] = name
	}
	return withDatabase(server, name)
}

// withDatabase returns the server URL naming database name, its commits not waiting for the
// disk: nothing here survives a crash of the server.
func withDatabase(server, name string) string {
	raw, err := postgres.DatabaseURL(server, name)
	if err != nil {
		panic(fmt.Sprintf("storetest: %s: %v", EnvPostgres, err))
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if !q.Has("synchronous_commit") {
		q.Set("synchronous_commit", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// createDatabase creates name as a copy of the run's template database, made and migrated by
// the store on first use: copying it is cheaper than running every migration again.
func createDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if template == "" {
		template = fmt.Sprintf("ledgertest_%s_template", runID)
		databases[""] = template
		if _, err := postgres.CreateDatabase(ctx, server, template, ""); err != nil {
			return err
		}
		if err := migrate(withDatabase(server, template)); err != nil {
			return fmt.Errorf("migrate the template database: %w", err)
		}
	}
	_, err := postgres.CreateDatabase(ctx, server, name, template)
	return err
}

// migrate brings the database at url to the current schema: the store does it when it opens.
func migrate(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := sql.Open(ctx, url)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	// Each copy draws its own instance id (outgoing message ids) when it is first opened.
	db, err := stdsql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `DELETE FROM meta WHERE key = 'instance'`)
	return err
}

// dropAll drops the databases this run created.
func dropAll() {
	mu.Lock()
	defer mu.Unlock()
	for _, name := range databases {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := postgres.DropDatabase(ctx, server, name); err != nil {
			fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		}
		cancel()
	}
	databases = map[string]string{}
	template = ""
}

// PostgresURL returns, whatever engine the tests run on now, a new PostgreSQL database that
// stands for the SQLite file at path (dropped at the end of the run), and false when
// LEDGER_TEST_POSTGRES is not set.
func PostgresURL(path string) (string, bool) {
	mu.Lock()
	defer mu.Unlock()
	if server == "" {
		return "", false
	}
	return postgresURL(path), true
}

// OpenRaw opens the database standing for the SQLite file at path with database/sql, beside
// the store, for a test that changes rows behind the store's back (to prove a check finds it).
func OpenRaw(path string) (*stdsql.DB, error) {
	u := URL(path)
	if strings.HasPrefix(u, "sqlite://") {
		return stdsql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	}
	return stdsql.Open("pgx", u)
}

// IsCheckViolation reports whether err is a CHECK constraint failure on either engine.
func IsCheckViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "CHECK constraint failed") || strings.Contains(err.Error(), "SQLSTATE 23514"))
}
