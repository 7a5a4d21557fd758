package sql_test

import (
	stdsql "database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"ledger/sql"
)

// What the store encodes for its batch statements, SQLite's ledger_rows reads back unchanged.
func TestBlobRows_read_back_by_ledger_rows(t *testing.T) {
	db, err := stdsql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	values := []any{
		"ev-1", int64(-5), "acct-é", int64(1 << 62),
		"", nil, "\"quoted\" \\ \n", int64(-1 << 63),
		"ev-3", int64(0), []byte(`["sms","",1]`), sql.NullableInt(42),
		sql.NullableText(""), sql.NullableInt(0), sql.NullableText("9f86d081"), int64(7),
	}
	rows, err := db.Query(`SELECT c0, c1, c2, c3 FROM ledger_rows(?)`, sql.EncodeBlobRows(4, values...))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []any
	for rows.Next() {
		var r [4]any
		if err := rows.Scan(&r[0], &r[1], &r[2], &r[3]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r[:]...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []any{
		"ev-1", int64(-5), "acct-é", int64(1 << 62),
		"", nil, "\"quoted\" \\ \n", int64(-1 << 63),
		"ev-3", int64(0), `["sms","",1]`, int64(42), // a real 0 stays 0
		nil, nil, "9f86d081", int64(7), // "" and 0 of a nullable value are NULL
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, want)
	}
}
