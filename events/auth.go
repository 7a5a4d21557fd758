package events

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"ledger/internal/linefile"
	"ledger/ledger"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of the embedded server (--nats-users FILE): who may publish usage, who may read
// the ledger's notices, and nothing more; the ledger alone publishes billing.* and answers
// billing.authorize. Lines are "USER PASSWORD ROLE", roles:
//
//	publisher           publishes usage of any account (usage.>) and asks billing.authorize
//	publisher:ACCOUNT   the same for one account only (usage.*.ACCOUNT): a platform service of one
//	                    customer cannot bill another (the ledger parks an event whose subject
//	                    names another account than its body)
//	subscriber          reads the notices: subscribes billing.> and consumes the BILLING stream
//
// ledgerd itself connects in the process as a user of its own with a password made at start.

// NATSUser is one line of the users file.
type NATSUser struct {
	Name, Password, Role string
}

// LedgerUser is the name ledgerd connects to its embedded server under.
const LedgerUser = "ledgerd"

// LoadNATSUsers reads a users file; passwords are at least 16 characters.
func LoadNATSUsers(path string) ([]NATSUser, error) {
	var users []NATSUser
	seen := map[string]bool{LedgerUser: true}
	err := linefile.Read(path, "--nats-users", func(line int, fields []string) error {
		if len(fields) != 3 {
			return fmt.Errorf("%s:%d: want USER PASSWORD ROLE", path, line)
		}
		u := NATSUser{Name: fields[0], Password: fields[1], Role: fields[2]}
		if seen[u.Name] {
			return fmt.Errorf("%s:%d: user %q is listed twice (or is the ledger's own, %s)", path, line, u.Name, LedgerUser)
		}
		seen[u.Name] = true
		if len(u.Password) < 16 {
			return fmt.Errorf("%s:%d: a password must be at least 16 characters", path, line)
		}
		if _, err := permissionsOf(u.Role); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		users = append(users, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	return users, nil
}

// permissionsOf is what a role may publish and subscribe to.
func permissionsOf(role string) (*server.Permissions, error) {
	inbox := &server.SubjectPermission{Allow: []string{"_INBOX.>"}}
	switch {
	case role == "publisher":
		return &server.Permissions{Publish: &server.SubjectPermission{Allow: []string{UsageSubjects, AuthorizeSubject}}, Subscribe: inbox}, nil
	case strings.HasPrefix(role, "publisher:"):
		account := strings.TrimPrefix(role, "publisher:")
		if !ledger.ValidAccountID(account) {
			return nil, fmt.Errorf("role %q: want publisher:ACCOUNT with an account id, [a-z0-9][a-z0-9_-]{0,62} (CONTRACT 2)", role)
		}
		return &server.Permissions{Publish: &server.SubjectPermission{Allow: []string{"usage.*." + account, AuthorizeSubject}}, Subscribe: inbox}, nil
	case role == "subscriber":
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"$JS.API.INFO", "$JS.API.STREAM.INFO." + BillingStream,
				"$JS.API.CONSUMER.CREATE." + BillingStream + ".>", "$JS.API.CONSUMER.INFO." + BillingStream + ".>",
				"$JS.API.CONSUMER.MSG.NEXT." + BillingStream + ".>", "$JS.ACK." + BillingStream + ".>"}},
			// Not billing.authorize: a subscriber in its queue group would take requests it cannot answer.
			Subscribe: &server.SubjectPermission{Allow: []string{"billing.>", "_INBOX.>"}, Deny: []string{AuthorizeSubject}},
		}, nil
	}
	return nil, fmt.Errorf("role %q must be publisher, publisher:ACCOUNT or subscriber", role)
}

// embeddedAuth returns the embedded server's users: those of the file, and ledgerd's own, with
// every permission, under a password made now; and that password.
func embeddedAuth(users []NATSUser) ([]*server.User, string, error) {
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, "", err
	}
	password := hex.EncodeToString(secret)
	out := []*server.User{{Username: LedgerUser, Password: password}}
	for _, u := range users {
		p, err := permissionsOf(u.Role)
		if err != nil {
			return nil, "", err
		}
		out = append(out, &server.User{Username: u.Name, Password: u.Password, Permissions: p})
	}
	return out, password, nil
}
