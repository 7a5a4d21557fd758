// Package redact takes the passwords out of URLs before they reach a log line, an error or an
// answer: database URLs (--db) and NATS server lists (--nats) alike.
package redact

import (
	neturl "net/url"
	"strings"
)

// URL returns a URL fit for a log line or an error: the passwords it carries
// (user:password@ and ?password=) replaced by ….
func URL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i > 0 {
			if j := strings.Index(raw, "://"); j > 0 && j < i {
				return raw[:j+3] + "…" + raw[i:]
			}
		}
		return raw
	}
	const mark = "xxxxx"
	redacted := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User, redacted = neturl.UserPassword(u.User.Username(), mark), true
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", mark)
		u.RawQuery, redacted = q.Encode(), true
	}
	if !redacted {
		return raw
	}
	return strings.NewReplacer(":"+mark+"@", ":…@", "password="+mark, "password=…").Replace(u.String())
}

// URLs is URL for each URL of a comma-separated list (a NATS server list).
func URLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = URL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}
