package ledger

import (
	"fmt"
	"time"
)

// OwedBeforeClosure reports whether traffic that happened at occurred, for an account closed at
// closedAt, is still charged: traffic of before a termination or a closure is owed whenever it
// arrives — a platform's events can reach the ledger minutes or days late — and is charged as it
// would have been in time (R1, R13, T&C 10.7; R10, R11, T&C 3.14, 3.15); traffic from the closure
// on is refused. A closure of unknown instant refuses everything.
func OwedBeforeClosure(occurred, closedAt time.Time) bool {
	return !closedAt.IsZero() && occurred.Before(closedAt)
}

// closedDetail says why traffic of a closed account is refused.
func closedDetail(account string, s AccountState) string {
	clause := "T&C 10.7"
	if s.Type == Prepaid {
		clause = "T&C 3.14, 3.15"
	}
	if s.ClosedAt.IsZero() {
		return fmt.Sprintf("account %q is closed (%s)", account, clause)
	}
	return fmt.Sprintf("account %q was closed at %s: traffic from then on is refused; traffic of before is charged (%s)",
		account, s.ClosedAt.UTC().Format(time.RFC3339), clause)
}
