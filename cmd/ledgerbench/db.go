package main

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ledger/service"
	"ledger/sql/postgres"

	"ledger/sql"
)

// benchDB is the database one run measures: a SQLite file in the working directory, or a
// database created for the run on the PostgreSQL server -db names, dropped afterwards.
type benchDB struct {
	URL    string // for sql.Open
	Engine string // "sqlite" or "postgres"
	drop   func()
	admin  *stdsql.DB // PostgreSQL: the server connection (WAL volume)
}

// forEachStore runs measure once per store -db names, each in a working directory of its own.
func forEachStore(c config, measure func(run config, spec string) error) error {
	for n, spec := range strings.Split(c.db, ",") {
		run := c
		run.dir = filepath.Join(c.dir, fmt.Sprintf("run%d", n+1))
		if err := os.MkdirAll(run.dir, 0o755); err != nil {
			return err
		}
		if err := measure(run, strings.TrimSpace(spec)); err != nil {
			return err
		}
	}
	return nil
}

// openBenchDB prepares the database for spec: "" or "sqlite" (a file under dir), or a
// postgres:// server URL.
func openBenchDB(ctx context.Context, spec, dir string, keep bool) (*benchDB, error) {
	if spec == "" || spec == "sqlite" {
		return &benchDB{URL: service.DefaultDB(dir), Engine: "sqlite", drop: func() {}}, nil
	}
	if !strings.HasPrefix(spec, "postgres://") && !strings.HasPrefix(spec, "postgresql://") {
		return nil, fmt.Errorf("-db %q: want sqlite or postgres://USER@HOST/DATABASE", sql.Redact(spec))
	}
	admin, err := stdsql.Open("pgx", spec) // pgx registered by ledger/sql/postgres
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("ledgerbench_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	url, err := postgres.CreateDatabase(ctx, spec, name, "")
	if err != nil {
		admin.Close()
		return nil, err
	}
	b := &benchDB{URL: url, Engine: "postgres", admin: admin}
	b.drop = func() {
		if keep {
			fmt.Printf("kept database %s\n", sql.Redact(b.URL))
		} else if err := postgres.DropDatabase(context.Background(), spec, name); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		admin.Close()
	}
	return b, nil
}

// walBytes is how much write-ahead log the PostgreSQL server has written so far (0 on SQLite,
// whose writes bytesWritten counts in this process).
func (b *benchDB) walBytes(ctx context.Context) uint64 {
	if b.admin == nil {
		return 0
	}
	var n float64
	if err := b.admin.QueryRowContext(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')`).Scan(&n); err != nil {
		return 0
	}
	return uint64(n)
}
