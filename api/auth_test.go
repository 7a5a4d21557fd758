package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CONTRACT 1: --api-tokens lines TOKEN ROLE [NAME]; the shipped example is valid.
func TestLoadTokens(t *testing.T) {
	example, err := LoadTokens(filepath.Join("..", "deploy", "api-tokens.example"))
	if err != nil {
		t.Fatalf("deploy/api-tokens.example: %v", err)
	}
	if tok, ok := example.find("change-me-finance-0123456789abcd"); !ok || tok.role != RoleFinance || tok.name != "finance-team" {
		t.Errorf("finance token = %+v, %v; want finance, named finance-team", tok, ok)
	}
	if tok, ok := example.find("change-me-viewer-0123456789abcde"); !ok || tok.name != "viewer" {
		t.Errorf("an unnamed token is named %q, want its role", tok.name)
	}
	if _, ok := example.find("change-me-finance-0123456789abc"); ok {
		t.Error("a prefix of a token was accepted")
	}
	for _, c := range []struct{ name, file, want string }{
		{"too_short", "short admin\n", "at least 16"},
		{"unknown_role", "0123456789abcdef0 root\n", "must be admin, finance or viewer"},
		{"twice", "0123456789abcdef0 admin\n0123456789abcdef0 viewer\n", "listed twice"},
		{"extra_field", "0123456789abcdef0 admin a b\n", "TOKEN ROLE [NAME]"},
		{"name_too_long", "0123456789abcdef0 admin " + strings.Repeat("n", MaxTokenNameLength+1) + "\n", "printable"},
		{"empty", "# nothing\n", "no tokens"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens")
			if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTokens(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one saying %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "0123456789abcdef0") {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}
