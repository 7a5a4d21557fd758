package ledger

import (
	"encoding/json"
	"strings"
	"time"
)

// Subjects of outgoing events (CONTRACT 5).
const (
	SubjectUsageRejected = "billing.usage.rejected"
)

// Notice is an outgoing event, written to the outbox in the transaction that causes it.
type Notice struct {
	Subject string
	Payload []byte
}

// RejectedNotice announces a parked event on billing.usage.rejected: the event as received
// (as JSON when it is JSON, else as text), its id, the reason and why.
func RejectedNotice(p Prepared, at time.Time) Notice {
	body := map[string]any{
		"account":  p.Event.Account,
		"at":       at.UTC().Format(time.RFC3339Nano),
		"event_id": p.Key,
		"reason":   string(p.Reason),
		"detail":   p.Detail,
		"subject":  p.Subject,
	}
	if p.Event.Account == "" {
		body["account"] = accountFromSubject(p.Subject)
	}
	if json.Valid(p.Data) {
		body["event"] = json.RawMessage(p.Data)
	} else {
		body["event"] = string(p.Data)
	}
	payload, _ := json.Marshal(body) // a map of strings and valid JSON cannot fail
	return Notice{Subject: SubjectUsageRejected, Payload: payload}
}

// accountFromSubject reads the account of usage.<channel>.<account>, for events whose body
// could not be read.
func accountFromSubject(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) == 3 && parts[0] == "usage" && ValidAccountID(parts[2]) {
		return parts[2]
	}
	return ""
}
