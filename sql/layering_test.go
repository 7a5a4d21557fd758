package sql_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The layering guard (docs/architecture.md): only the store (ledger/sql and below) and the
// commands (ledger/cmd/…) may import database/sql or sqlx, and each driver only its adapter:
// go-sqlite3 in ledger/sql/sqlite, pgx in ledger/sql/postgres. The store's own code is the same
// on both engines; everything else reaches the database through the store.
func TestLayering_only_adapters_and_commands_import_database_packages(t *testing.T) {
	allowedIn := map[string]func(pkg string) bool{
		"database/sql":                storeOrCommand,
		"github.com/jmoiron/sqlx":     storeOrCommand,
		"github.com/mattn/go-sqlite3": func(pkg string) bool { return pkg == "ledger/sql/sqlite" },
		"github.com/jackc/pgx":        func(pkg string) bool { return pkg == "ledger/sql/postgres" },
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
		for _, imp := range fields[1:] {
			for forbidden, allowed := range allowedIn {
				if (imp == forbidden || strings.HasPrefix(imp, forbidden+"/")) && !allowed(pkg) {
					t.Errorf("%s imports %s: see the layering guard (only its adapter, or ledger/sql/… and ledger/cmd/… for database/sql and sqlx)", pkg, imp)
				}
			}
		}
	}
	if packages < 10 {
		t.Fatalf("go list found %d packages; the guard is not looking at the module", packages)
	}
}

func storeOrCommand(pkg string) bool {
	return pkg == "ledger/sql" || strings.HasPrefix(pkg, "ledger/sql/") || strings.HasPrefix(pkg, "ledger/cmd/")
}

// The use-case seam (docs/architecture.md, issue 13): the drivers (api, events, notify), the
// wiring (service) and the use cases (billing) reach storage only through the interfaces
// billing declares, never through a concrete store; only ledger/cmd/… picks the adapter. The
// domain packages import no store at all. Test files may use the real store.
func TestLayering_drivers_and_use_cases_never_import_a_store(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "ledger/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	store := func(imp string) bool { return imp == "ledger/sql" || strings.HasPrefix(imp, "ledger/sql/") }
	checked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		if store(pkg) || strings.HasPrefix(pkg, "ledger/cmd/") {
			continue
		}
		checked[pkg] = true
		for _, imp := range fields[1:] {
			if store(imp) {
				t.Errorf("%s imports %s: only ledger/cmd/… may pick a store; others use billing's interfaces", pkg, imp)
			}
		}
	}
	for _, pkg := range []string{"ledger/api", "ledger/events", "ledger/service", "ledger/billing", "ledger/notify", "ledger/ledger"} {
		if !checked[pkg] {
			t.Errorf("go list did not show %s; the guard is not looking at the module", pkg)
		}
	}
}
