package sql

import (
	neturl "net/url"
	"strings"

	"ledger/internal/redact"
)

// Redact returns a database URL fit for a log line or an error: the passwords it carries
// (user:password@ and ?password=) replaced by ….
func Redact(raw string) string { return redact.URL(raw) }

// ScrubPasswords returns err with the passwords the database URLs carry (user:password@ or
// ?password=, plain or escaped) replaced by …: a driver's message may quote them.
func ScrubPasswords(err error, urls ...string) error {
	if err == nil {
		return nil
	}
	var secrets []string
	for _, raw := range urls {
		u, perr := neturl.Parse(raw)
		if perr != nil {
			continue
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				secrets = append(secrets, u.User.String(), pw, neturl.QueryEscape(pw))
			}
		}
		if pw := u.Query().Get("password"); pw != "" {
			secrets = append(secrets, pw, neturl.QueryEscape(pw))
		}
	}
	if len(secrets) == 0 {
		return err
	}
	return scrubbedError{err, secrets}
}

// scrubbedError is an error whose message has secrets replaced by ….
type scrubbedError struct {
	err     error
	secrets []string
}

func (e scrubbedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "…")
	}
	return msg
}

func (e scrubbedError) Unwrap() error { return e.err }
