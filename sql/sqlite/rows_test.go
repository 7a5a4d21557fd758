package sqlite_test

import (
	stdsql "database/sql"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "ledger/sql/sqlite" // registers ledger_rows on every connection
)

// blob writes rows in ledger_rows's format by hand, from its description in rows.c: a value is
// nil (NULL), an int64 or a string.
func blob(columns byte, values ...any) []byte {
	b := []byte{columns}
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			b = append(b, 0)
		case int64:
			b = binary.LittleEndian.AppendUint64(append(b, 1), uint64(v))
		case string:
			b = append(binary.LittleEndian.AppendUint32(append(b, 2), uint32(len(v))), v...)
		default:
			panic(v)
		}
	}
	return b
}

func open(t *testing.T) *stdsql.DB {
	t.Helper()
	db, err := stdsql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLedgerRows_reads_each_kind_of_value(t *testing.T) {
	db := open(t)
	rows, err := db.Query(`SELECT rowid, c0, typeof(c0), c1, typeof(c1), c2, typeof(c2), c3 FROM ledger_rows(?)`,
		blob(3, int64(-9223372036854775808), "héllo\x00there", nil,
			int64(9223372036854775807), "", int64(-1),
			nil, "z", int64(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		rowid          int64
		c0, t0, c1, t1 any
		c2, t2, c3     any
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.rowid, &r.c0, &r.t0, &r.c1, &r.t1, &r.c2, &r.t2, &r.c3); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{1, int64(-9223372036854775808), "integer", "héllo\x00there", "text", nil, "null", nil},
		{2, int64(9223372036854775807), "integer", "", "text", int64(-1), "integer", nil},
		{3, nil, "null", "z", "text", int64(0), "integer", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if s, ok := g.c1.([]byte); ok { // text with a NUL comes back as bytes
			g.c1 = string(s)
		}
		if g != w {
			t.Errorf("row %d: %+v, want %+v", i+1, g, w)
		}
	}
}

func TestLedgerRows_no_rows(t *testing.T) {
	var n int
	if err := open(t).QueryRow(`SELECT count(*) FROM ledger_rows(?)`, blob(5)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v; want 0 rows", n, err)
	}
}

func TestLedgerRows_refuses_what_is_not_whole_rows(t *testing.T) {
	db := open(t)
	whole := blob(2, int64(7), "abc") // 1 + 9 + 8 bytes
	part := func(b []byte, more ...byte) []byte { return append(slices.Clip(b), more...) }
	for _, c := range []struct {
		name string
		arg  any
		want string
	}{
		{"text, not a BLOB", string(whole), "the rows must be a BLOB\n"},
		{"NULL", nil, "the rows must be a BLOB\n"},
		{"empty BLOB", []byte{}, "the BLOB is empty: it begins with its number of columns\n"},
		{"no column", []byte{0}, "a row has 1 to 16 columns\n"},
		{"17 columns", []byte{17}, "a row has 1 to 16 columns\n"},
		{"half a row", blob(2, int64(7)), "the BLOB ends inside a row"},
		{"a row and a half", part(whole, blob(2, int64(8))[1:]...), "the BLOB ends inside a row (row 2, byte 27 of 27)"},
		{"short integer", whole[:5], "the BLOB ends inside an integer (row 1, byte 1 of 5)"},
		{"short length", whole[:12], "the BLOB ends inside a text's length (row 1, byte 10 of 12)"},
		{"short text", whole[:len(whole)-1], "the BLOB ends inside a text (row 1, byte 10 of 17)"},
		{"text longer than the BLOB", part(whole[:10], 2, 0xff, 0xff, 0xff, 0x7f, 'x'), "the BLOB ends inside a text (row 1, byte 10 of 16)"},
		{"unknown type", []byte{1, 9}, "unknown value type (row 1, byte 1 of 2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := db.Query(`SELECT c0, c1 FROM ledger_rows(?)`, c.arg)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			// An argument's error names no row or byte: it ends there ("\n" stands for the end).
			if err == nil || !strings.Contains(err.Error()+"\n", "ledger_rows: "+c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestLedgerRows_needs_its_rows(t *testing.T) {
	_, err := open(t).Query(`SELECT c0 FROM ledger_rows`)
	if err == nil || !strings.Contains(err.Error(), "the rows are missing") {
		t.Fatalf("err = %v, want the rows missing", err)
	}
}

// The statements insert from ledger_rows in one pass: a NULL stays NULL, the values keep
// their types in the table's columns.
func TestLedgerRows_feeds_an_insert(t *testing.T) {
	db := open(t)
	if _, err := db.Exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)`); err != nil {
		t.Fatal(err)
	}
	var values []any
	for i := range 1000 {
		values = append(values, int64(i+1), strings.Repeat("n", i%50), nil)
	}
	res, err := db.Exec(`INSERT INTO t(id, name, note) SELECT c0, c1, c2 FROM ledger_rows(?)`, blob(3, values...))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1000 {
		t.Fatalf("inserted %d rows, want 1000", n)
	}
	var sum, length, notes int64
	if err := db.QueryRow(`SELECT sum(id), sum(length(name)), count(note) FROM t`).Scan(&sum, &length, &notes); err != nil {
		t.Fatal(err)
	}
	if sum != 500500 || length != 20*(49*50/2) || notes != 0 {
		t.Fatalf("sum(id) %d, sum(length(name)) %d, notes %d", sum, length, notes)
	}
}

// A statement run again reads its new BLOB, shorter or longer, and a bad one in between does
// not spoil the next; a BLOB per row of another table is read afresh for each (the cursor's
// filter runs again), in either join order the planner picks.
func TestLedgerRows_read_again_per_run_and_per_row(t *testing.T) {
	db := open(t)
	st, err := db.Prepare(`SELECT count(*), coalesce(sum(c0), 0) FROM ledger_rows(?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	long := []any{}
	for i := range 10_000 {
		long = append(long, int64(i))
	}
	for i, c := range []struct {
		arg        []byte
		n, sum     int64
		wantsError bool
	}{
		{arg: blob(1, int64(1), int64(2), int64(3)), n: 3, sum: 6},
		{arg: blob(1, long...), n: 10_000, sum: 49_995_000},
		{arg: blob(1, int64(7)), n: 1, sum: 7},
		{arg: []byte{1, 1, 0}, wantsError: true},
		{arg: blob(2, int64(5), "x", int64(6), "y"), n: 2, sum: 11},
	} {
		var n, sum int64
		err := st.QueryRow(c.arg).Scan(&n, &sum)
		if c.wantsError {
			if err == nil {
				t.Errorf("run %d: no error for a short BLOB", i+1)
			}
			continue
		}
		if err != nil || n != c.n || sum != c.sum {
			t.Errorf("run %d: count %d, sum %d, %v; want %d, %d", i+1, n, sum, err, c.n, c.sum)
		}
	}

	if _, err := db.Exec(`CREATE TABLE src(k INTEGER PRIMARY KEY, b BLOB)`); err != nil {
		t.Fatal(err)
	}
	for k, b := range [][]byte{blob(1, int64(10), int64(20)), blob(1, int64(1)), blob(1), blob(1, int64(100), int64(200), int64(300))} {
		if _, err := db.Exec(`INSERT INTO src(k, b) VALUES (?, ?)`, k+1, b); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int64]int64{1: 30, 2: 1, 4: 600} // src 3 has no rows
	for _, q := range []string{
		`SELECT s.k, sum(r.c0) FROM src s, ledger_rows(s.b) r GROUP BY s.k`,
		// ledger_rows named first: its BLOB is another table's column, so the planner puts src
		// outside whatever the order written.
		`SELECT s.k, sum(r.c0) FROM ledger_rows r JOIN src s ON r.data = s.b GROUP BY s.k`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got := map[int64]int64{}
		for rows.Next() {
			var k, sum int64
			if err := rows.Scan(&k, &sum); err != nil {
				t.Fatal(err)
			}
			got[k] = sum
		}
		rows.Close()
		if len(got) != len(want) || got[1] != want[1] || got[2] != want[2] || got[4] != want[4] {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
}
