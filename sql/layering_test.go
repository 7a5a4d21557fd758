package sql_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The layering guard (docs/architecture.md): only the store adapters (ledger/sql and below)
// and the commands (ledger/cmd/…) may import a database driver or query layer. Everything
// else reaches the database through the store, so a second engine plugs in at one place.
func TestLayering_only_adapters_and_commands_import_database_packages(t *testing.T) {
	forbidden := []string{"database/sql", "github.com/jmoiron/sqlx", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx"}
	allowed := func(pkg string) bool {
		return pkg == "ledger/sql" || strings.HasPrefix(pkg, "ledger/sql/") || strings.HasPrefix(pkg, "ledger/cmd/")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "ledger/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	packages := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		packages++
		pkg := fields[0]
		if allowed(pkg) {
			continue
		}
		for _, imp := range fields[1:] {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s: only ledger/sql/… (the store adapters) and ledger/cmd/… may", pkg, imp)
				}
			}
		}
	}
	if packages < 10 {
		t.Fatalf("go list found %d packages; the guard is not looking at the module", packages)
	}
}
