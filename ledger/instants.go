package ledger

import (
	"time"
)

// The instants the ledger keeps: from 2000-01-01 up to, not including, 2100-01-01 (UTC). An
// instant outside is refused where it comes in (registered_at, received_at, at, incident_at,
// the test clock) and an event's occurred_at outside it is parked malformed: a year 0000 or
// 9999 is a client's bug, not a bill, and every instant inside fits every form the store keeps
// (fixed-width text, timestamptz, nanoseconds since 1970 in int64, which wrap after 2262).
var (
	MinInstant = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	MaxInstant = time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC) // excluded
)

// InstantWindow names the window in messages.
const InstantWindow = "2000-01-01T00:00:00Z up to 2100-01-01T00:00:00Z"

// InWindow reports whether t is an instant the ledger keeps.
func InWindow(t time.Time) bool { return !t.Before(MinInstant) && t.Before(MaxInstant) }

// CheckInstant refuses (422) an instant outside the window, naming the field.
func CheckInstant(field string, t time.Time) error {
	if InWindow(t) {
		return nil
	}
	return Refusef("CONTRACT 3", "%s %s is outside the instants the ledger keeps (%s)", field, t.UTC().Format(time.RFC3339Nano), InstantWindow)
}

// ParseInstant reads an RFC 3339 instant of the named field and checks it is in the window.
func ParseInstant(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Errorf(CodeInvalid, "%s %q is not an RFC 3339 time", field, s)
	}
	t = t.UTC()
	return t, CheckInstant(field, t)
}
