package sql_test

import (
	"context"
	stdsql "database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"ledger/sql"
	"ledger/sql/storetest"
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

// What the store encodes for COPY (an engine with BulkCopy: PostgreSQL), the server reads back
// unchanged, in the types of the charges' columns: the rating as json (migration 0014) and as
// jsonb (a ledger 0014 left as it was).
func TestCopyRows_read_back_by_postgres(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("COPY is PostgreSQL's (this run is SQLite's; LEDGER_TEST_POSTGRES runs it)")
	}
	t.Run("json", func(t *testing.T) {
		testCopyRows(t, "json", `["sms","",1]`, `["voice","\u00e9\"",0,600]`) // kept as written
	})
	t.Run("jsonb", func(t *testing.T) {
		testCopyRows(t, "jsonb", `["sms", "", 1]`, `["voice", "é\"", 0, 600]`) // as jsonb prints it
	})
}

func testCopyRows(t *testing.T, ratingType, rating1, rating2 string) {
	path := filepath.Join(t.TempDir(), "copy.db")
	s, err := sql.Open(context.Background(), storetest.URL(path))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	values := []any{
		"ev-1", int64(-5), sql.Later(1 << 40), []byte(`["sms","",1]`), sql.NullableInt(42), sql.NullableText("9f86d081"),
		"acct-é \"quoted\" \\ \n", int64(-1 << 63), sql.Later(7), []byte(`["voice","\u00e9\"",0,600]`), sql.NullableInt(0), sql.NullableText(""),
		"", int64(1<<63 - 1), sql.Later(0), []byte(`[]`), nil, nil,
	}
	columns := []string{"id", "n", "tx", "rating", "line", "pseudonym"}
	err = s.CopyInto(context.Background(), `CREATE TABLE copied (seq bigint GENERATED ALWAYS AS IDENTITY, id text NOT NULL,
		n bigint NOT NULL, tx bigint NOT NULL, rating `+ratingType+` NOT NULL, line bigint, pseudonym text)`,
		"copied", columns, sql.EncodeCopyRows(len(columns), ratingType == "jsonb", values...))
	if err != nil {
		t.Fatal(err)
	}
	db, err := storetest.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, n, tx, rating::text, line, pseudonym FROM copied ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []any
	for rows.Next() {
		var id, rating string
		var n, tx int64
		var line stdsql.NullInt64
		var pseudonym stdsql.NullString
		if err := rows.Scan(&id, &n, &tx, &rating, &line, &pseudonym); err != nil {
			t.Fatal(err)
		}
		got = append(got, id, n, tx, rating, line, pseudonym)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	null, nullText := stdsql.NullInt64{}, stdsql.NullString{}
	want := []any{
		"ev-1", int64(-5), int64(1 << 40), rating1, stdsql.NullInt64{Int64: 42, Valid: true}, stdsql.NullString{String: "9f86d081", Valid: true},
		"acct-é \"quoted\" \\ \n", int64(-1 << 63), int64(7), rating2, null, nullText, // 0 and "" are NULL
		"", int64(1<<63 - 1), int64(0), `[]`, null, nullText,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, want)
	}
}
