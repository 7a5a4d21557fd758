package sql

import (
	"context"
	stdsql "database/sql"
)

// PipelinedWrite runs fn in a write transaction with the write pipeline on, as a billing run's
// loop runs: later queues a statement (PostgreSQL) or runs it (SQLite); read reads through the
// writer. The pipeline is ended (endPipeline) before the commit when fn succeeds.
func (s *Store) PipelinedWrite(ctx context.Context, fn func(later func(query string, args ...any) error, read func(query string, args ...any) *stdsql.Row) error) error {
	return s.inWrite(ctx, func() error {
		s.startPipeline()
		defer s.stopPipeline()
		later := func(query string, args ...any) error { return s.laterSQL(ctx, query, args...) }
		read := func(query string, args ...any) *stdsql.Row { return s.write.QueryRowContext(ctx, query, args...) }
		if err := fn(later, read); err != nil {
			return err
		}
		return s.endPipeline(ctx)
	})
}

// ReloadView reads the credit book, the agreements and the test clock again, as a reload after
// another instance's write does (cluster.go).
func (s *Store) ReloadView(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.reloadView(ctx)
}

// NullableInt and NullableText are values EncodeBlobRows writes as the store writes a line id
// or a pseudonym: 0 and "" as NULL.
type (
	NullableInt  int64
	NullableText string
)

// EncodeBlobRows writes values, row after row, as the batch statements' rows for ledger_rows
// (blobRows): nil as NULL, an int64, a string, a []byte (JSON, as text), a NullableInt, a
// NullableText.
func EncodeBlobRows(columns int, values ...any) []byte {
	r := newBlobRows(columns, 0, 0)
	for _, v := range values {
		writeValue(&r, v)
	}
	return r.bytes()
}

// Later is a value EncodeCopyRows writes as the store writes a charge's transaction id: a
// placeholder, set to the value once the rows are encoded.
type Later int64

// EncodeCopyRows writes values, row after row, as the COPY data of the charges (copyRows): as
// EncodeBlobRows, a []byte as json (charges.rating) or, with jsonb, as jsonb, and a Later.
func EncodeCopyRows(columns int, jsonb bool, values ...any) []byte {
	r := newCopyRows(columns, 0, 0)
	r.jsonb = jsonb
	var set []int64
	for i, v := range values {
		if i%columns == 0 {
			r.row()
		}
		if v, ok := v.(Later); ok {
			r.transaction()
			set = append(set, int64(v))
			continue
		}
		writeValue(&r, v)
	}
	r.end()
	for i, at := range r.txAt { // each its own value, to tell the rows apart
		r.setInt(at, set[i])
	}
	return r.bytes()
}

func writeValue(w rowWriter, v any) {
	switch v := v.(type) {
	case nil:
		w.null()
	case int64:
		w.int(v)
	case string:
		w.text(v)
	case []byte:
		w.json(v)
	case NullableInt:
		nullableInt(w, int64(v))
	case NullableText:
		nullableText(w, string(v))
	default:
		panic(v)
	}
}

// CopyInto runs create, then copies data into table's columns, in a write transaction on the
// store's writer (BulkCopier).
func (s *Store) CopyInto(ctx context.Context, create, table string, columns []string, data []byte) error {
	return s.inWrite(ctx, func() error {
		if _, err := s.write.ExecContext(ctx, create); err != nil {
			return err
		}
		return s.copyInto(ctx, table, columns, data)
	})
}

// SetLinesChunk makes flushLines write at most n open lines a statement, until the returned
// function restores the chunk.
func SetLinesChunk(n int) (restore func()) {
	was := linesChunk
	linesChunk = n
	return func() { linesChunk = was }
}

// CopyEntriesMin is the fewest entries of one transaction written by COPY (PostgreSQL).
const CopyEntriesMin = copyEntriesMin
