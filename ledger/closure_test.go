package ledger_test

import (
	"testing"
	"time"

	"ledger/ledger"
)

// R13, R11: whether late traffic of a closed account is still owed is decided by when it
// happened against when the account was closed.
func TestOwedBeforeClosure(t *testing.T) {
	closed := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		occurred, closedAt time.Time
		want               bool
	}{
		{closed.Add(-time.Nanosecond), closed, true},
		{closed, closed, false}, // from the instant on: refused
		{closed.Add(time.Hour), closed, false},
		{closed.Add(-time.Hour), time.Time{}, false}, // a closure of unknown instant refuses all
	} {
		if got := ledger.OwedBeforeClosure(c.occurred, c.closedAt); got != c.want {
			t.Errorf("OwedBeforeClosure(%s, %s) = %v, want %v", c.occurred, c.closedAt, got, c.want)
		}
	}
}
