package events

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"ledger/ledger"
)

// The shipped example users file is valid; bad lines are refused naming the line.
func TestLoadNATSUsers(t *testing.T) {
	users, err := LoadNATSUsers(filepath.Join("..", "deploy", "nats-users.example"))
	if err != nil || len(users) != 3 {
		t.Fatalf("deploy/nats-users.example: %v, %d users", err, len(users))
	}
	for _, c := range []struct{ name, file, want string }{
		{"short_password", "u short publisher\n", "16 characters"},
		{"unknown_role", "u 0123456789abcdef0 admin\n", "must be publisher"},
		{"wildcard_account", "u 0123456789abcdef0 publisher:*\n", "account id"},
		{"ledgerd_taken", "ledgerd 0123456789abcdef0 publisher\n", "listed twice"},
		{"fields", "u 0123456789abcdef0\n", "USER PASSWORD ROLE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users")
			os.WriteFile(path, []byte(c.file), 0o600)
			if _, err := LoadNATSUsers(path); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestMetricsCharged(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	m.UsageEvents.WithLabelValues("sms", string(ledger.OutcomeCharged)).Add(3)
	m.UsageEvents.WithLabelValues("voice", string(ledger.OutcomeCharged)).Add(2)
	m.UsageEvents.WithLabelValues("sms", string(ledger.OutcomeRejected)).Add(7)
	if got := m.Charged(); got != 5 {
		t.Errorf("Charged() = %v, want 5 (3 SMS and 2 calls; the parked one is not charged)", got)
	}
}
