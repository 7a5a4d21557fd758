package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"ledger/internal/linefile"
	"ledger/ledger"
)

// Role is what a token may do: viewers read, finance also moves money, admins do everything.
type Role int

// Roles, each including the ones below it.
const (
	RoleViewer Role = iota + 1
	RoleFinance
	RoleAdmin
)

var roleNames = map[string]Role{"viewer": RoleViewer, "finance": RoleFinance, "admin": RoleAdmin}

func (r Role) String() string {
	for name, role := range roleNames {
		if role == r {
			return name
		}
	}
	return "none"
}

// Tokens are the API's tokens (--api-tokens), each with its role and the name the audit trail
// records as the actor (CONTRACT 1, 3.10). A request's token is found by comparing its SHA-256
// digest with every token's in constant time: how long the search takes says nothing about
// how much of a token was right.
type Tokens struct {
	list []token
}

type token struct {
	digest [sha256.Size]byte
	role   Role
	name   string
}

// MaxTokens bounds the token file.
const MaxTokens = 10_000

// MaxTokenNameLength bounds a token's name.
const MaxTokenNameLength = 64

// LoadTokens reads a file of lines "TOKEN ROLE [NAME]"; NAME defaults to the role. Blank lines
// and lines starting with # are skipped.
func LoadTokens(path string) (*Tokens, error) {
	tokens := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	err := linefile.Read(path, "--api-tokens", func(line int, fields []string) error {
		if len(fields) != 2 && len(fields) != 3 {
			return fmt.Errorf("%s:%d: want TOKEN ROLE [NAME]", path, line)
		}
		role, ok := roleNames[fields[1]]
		if !ok {
			return fmt.Errorf("%s:%d: role %q must be admin, finance or viewer", path, line, fields[1])
		}
		if len(fields[0]) < 16 {
			return fmt.Errorf("%s:%d: a token must be at least 16 characters", path, line)
		}
		name := fields[1]
		if len(fields) == 3 {
			name = fields[2]
			if len(name) > MaxTokenNameLength || !printable(name) {
				return fmt.Errorf("%s:%d: a name is at most %d printable characters", path, line, MaxTokenNameLength)
			}
		}
		t := token{digest: sha256.Sum256([]byte(fields[0])), role: role, name: name}
		if seen[t.digest] {
			return fmt.Errorf("%s:%d: the token is listed twice", path, line)
		}
		seen[t.digest] = true
		tokens.list = append(tokens.list, t)
		if len(tokens.list) > MaxTokens {
			return fmt.Errorf("%s: more than %d tokens", path, MaxTokens)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(tokens.list) == 0 {
		return nil, fmt.Errorf("%s: no tokens", path)
	}
	return tokens, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return false
		}
	}
	return true
}

// find returns the token whose digest is that of presented, looking at every token whatever
// it finds.
func (ts *Tokens) find(presented string) (token, bool) {
	digest := sha256.Sum256([]byte(presented))
	var found token
	match := 0
	for _, t := range ts.list {
		eq := subtle.ConstantTimeCompare(digest[:], t.digest[:])
		if eq == 1 {
			found = t
		}
		match |= eq
	}
	return found, match == 1
}

// principal is who makes a request, for the record of manual operations (R14).
type principal struct {
	Role Role
	Name string // the token's name, or "loopback"
}

// authenticate says who sent r. Without tokens the API answers only on loopback, as admin.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	if s.Tokens == nil {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return principal{}, ledger.Errorf(ledger.CodeForbidden, "without --api-tokens the API answers only on loopback")
		}
		return principal{Role: RoleAdmin, Name: "loopback"}, nil
	}
	auth := r.Header.Get("Authorization")
	presented, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || presented == "" {
		return principal{}, s.refuse(r, "no bearer token", ledger.Errorf(ledger.CodeUnauthorized, "send Authorization: Bearer TOKEN"))
	}
	t, ok := s.Tokens.find(presented)
	if !ok {
		return principal{}, s.refuse(r, "unknown token", ledger.Errorf(ledger.CodeUnauthorized, "unknown token"))
	}
	return principal{Role: t.role, Name: t.name}, nil
}

// refuse logs and counts a failed authentication (never the token) and returns err.
func (s *Server) refuse(r *http.Request, why string, err error) error {
	if s.AuthFailures != nil {
		s.AuthFailures.Inc()
	}
	if s.Log != nil {
		s.Log.Warn("API authentication failed", "reason", why, "method", r.Method, "path", auditPath(r), "remote", r.RemoteAddr)
	}
	return err
}
