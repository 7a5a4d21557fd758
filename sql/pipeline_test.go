package sql_test

import (
	"context"
	stdsql "database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"ledger/sql"
	"ledger/sql/storetest"
)

// The write pipeline (pipeline.go) must be invisible to the transaction that uses it: what it
// queued is read back, a queued statement that fails fails the transaction and leaves nothing,
// and a rolled-back transaction's queue is not sent with the next one.
func TestPipeline(t *testing.T) {
	ctx := context.Background()
	store, err := sql.Open(ctx, storetest.URL(filepath.Join(t.TempDir(), "ledger.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const insert = `INSERT INTO meta(key, value) VALUES (?, ?)`
	count := func(read func(string, ...any) *stdsql.Row, prefix string) (n int) {
		if err := read(`SELECT count(*) FROM meta WHERE key LIKE ?`, prefix+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	committed := func(prefix string) (n int) {
		err := store.PipelinedWrite(ctx, func(_ func(string, ...any) error, read func(string, ...any) *stdsql.Row) error {
			n = count(read, prefix)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("reads_see_what_was_queued", func(t *testing.T) {
		err := store.PipelinedWrite(ctx, func(later func(string, ...any) error, read func(string, ...any) *stdsql.Row) error {
			for _, k := range []string{"seen-1", "seen-2", "seen-3"} {
				if err := later(insert, k, "v"); err != nil {
					return err
				}
			}
			if n := count(read, "seen-"); n != 3 {
				t.Errorf("read %d of the 3 rows queued before it", n)
			}
			return later(insert, "seen-4", "v")
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := committed("seen-"); n != 4 {
			t.Fatalf("%d rows committed, want 4 (the last one queued is sent with the commit)", n)
		}
	})

	t.Run("a_failing_statement_fails_the_transaction", func(t *testing.T) {
		err := store.PipelinedWrite(ctx, func(later func(string, ...any) error, read func(string, ...any) *stdsql.Row) error {
			if err := later(insert, "dup-1", "v"); err != nil {
				return err
			}
			if err := later(insert, "dup-1", "again"); err != nil {
				return err // SQLite: at once
			}
			return later(insert, "dup-2", "v")
		})
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") && !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("got %v; want the unique violation", err)
		}
		if storetest.Postgres() && !strings.Contains(err.Error(), "pipelined statement") {
			t.Errorf("%v: want the failing statement named", err)
		}
		if n := committed("dup-"); n != 0 {
			t.Fatalf("%d rows of the failed transaction committed", n)
		}
	})

	t.Run("a_rolled_back_queue_is_not_sent_later", func(t *testing.T) {
		refused := errors.New("refused")
		err := store.PipelinedWrite(ctx, func(later func(string, ...any) error, _ func(string, ...any) *stdsql.Row) error {
			if err := later(insert, "dropped-1", "v"); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("got %v", err)
		}
		if n := committed("dropped-"); n != 0 {
			t.Fatalf("%d rows of a rolled-back transaction committed", n)
		}
	})
}
