package redact_test

import (
	"testing"

	"ledger/internal/redact"
)

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                               "nats://127.0.0.1:4222",
		"nats://led:s3cret@n1:4222,nats://led:s3cret@n2:4222": "nats://led:…@n1:4222,nats://led:…@n2:4222",
		"postgres://u:pw@db/ledger?sslmode=disable":           "postgres://u:…@db/ledger?sslmode=disable",
	} {
		if got := redact.URLs(in); got != want {
			t.Errorf("URLs(%q) = %q, want %q", in, got, want)
		}
	}
}
