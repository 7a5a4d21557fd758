package ledger

import (
	"encoding/json"
	"fmt"
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

// NewNotice builds an outgoing event of CONTRACT 5: JSON with the account, the instant and the
// subject's own fields (strings, numbers, booleans and valid JSON only).
func NewNotice(subject, account string, at time.Time, fields map[string]any) Notice {
	body := map[string]any{"account": account, "at": at.UTC().Format(time.RFC3339Nano)}
	for k, v := range fields {
		body[k] = v
	}
	payload, err := json.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("notice %s: %v", subject, err)) // only values json always encodes
	}
	return Notice{Subject: subject, Payload: payload}
}

// RejectedNotice announces a parked event on billing.usage.rejected: the event as received
// (as JSON when it is JSON, else as text), its id, the reason and why.
func RejectedNotice(p Prepared, at time.Time) Notice {
	fields := map[string]any{"event_id": p.Key, "reason": string(p.Reason), "detail": p.Detail, "subject": p.Subject}
	if json.Valid(p.Data) {
		fields["event"] = json.RawMessage(p.Data)
	} else {
		fields["event"] = string(p.Data)
	}
	account := p.Event.Account
	if account == "" {
		account = accountFromSubject(p.Subject)
	}
	return NewNotice(SubjectUsageRejected, account, at, fields)
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
