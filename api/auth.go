package api

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

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

// Tokens maps API tokens to roles (--api-tokens).
type Tokens map[string]Role

// MaxTokens bounds the token file.
const MaxTokens = 10_000

// LoadTokens reads a file of lines "TOKEN ROLE"; blank lines and lines starting with # are skipped.
func LoadTokens(path string) (Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--api-tokens: %w", err)
	}
	defer f.Close()
	tokens := Tokens{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want TOKEN ROLE", path, line)
		}
		role, ok := roleNames[fields[1]]
		if !ok {
			return nil, fmt.Errorf("%s:%d: role %q must be admin, finance or viewer", path, line, fields[1])
		}
		if len(fields[0]) < 16 {
			return nil, fmt.Errorf("%s:%d: a token must be at least 16 characters", path, line)
		}
		tokens[fields[0]] = role
		if len(tokens) > MaxTokens {
			return nil, fmt.Errorf("%s: more than %d tokens", path, MaxTokens)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s: no tokens", path)
	}
	return tokens, nil
}

// principal is who makes a request, for the record of manual operations (R14).
type principal struct {
	Role Role
	Name string // "admin:3f2a9c…" (role and token fingerprint) or "loopback"
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
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return principal{}, ledger.Errorf(ledger.CodeUnauthorized, "send Authorization: Bearer TOKEN")
	}
	role, ok := s.Tokens[token]
	if !ok {
		return principal{}, ledger.Errorf(ledger.CodeUnauthorized, "unknown token")
	}
	sum := sha256.Sum256([]byte(token))
	return principal{Role: role, Name: role.String() + ":" + hex.EncodeToString(sum[:4])}, nil
}
