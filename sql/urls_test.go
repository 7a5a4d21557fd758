package sql_test

import (
	"testing"

	"ledger/sql"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://ledger:s3cret@db:5432/ledger":              "postgres://ledger:…@db:5432/ledger",
		"postgres://ledger@db/ledger?password=s3cret":          "postgres://ledger@db/ledger?password=…",
		"postgres://db/ledger?password=s3cret&sslmode=disable": "postgres://db/ledger?password=…&sslmode=disable",
		"postgres://ledger:a@db/ledger?password=b":             "postgres://ledger:…@db/ledger?password=…",
		"postgres://postgres@127.0.0.1:5432/test":              "postgres://postgres@127.0.0.1:5432/test",
		"sqlite://data/ledger.db":                              "sqlite://data/ledger.db",
		"postgres://ledger:p%zz@db/ledger":                     "postgres://…@db/ledger",
	} {
		if got := sql.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
