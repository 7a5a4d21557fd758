package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Limits of a copy between databases (CopyTo).
const (
	// CopyChunkRows is the most rows one multi-row INSERT writes.
	CopyChunkRows = 5000
	// CopyMaxParams is the most placeholders one INSERT takes: SQLite's default limit
	// (SQLITE_MAX_VARIABLE_NUMBER); PostgreSQL's is 65,535. A wide table gets fewer rows a chunk.
	CopyMaxParams = 32766
	// CopyProgressRows: progress is reported at least once per this many rows of a table.
	CopyProgressRows = 50_000
	// CopyMaxDifferences bounds how many differences of one kind VerifyCopy names.
	CopyMaxDifferences = 10
)

// ErrTargetNotEmpty is returned (wrapped, with the tables and their rows) by CopyTo when the
// target already holds a ledger.
var ErrTargetNotEmpty = errors.New("the target is not empty")

// copyTable is one table CopyTo copies, with the order its rows are read in.
type copyTable struct {
	name  string
	order string // ORDER BY
	// rowid: the order of insertion orders the API's lists (SQLite's implicit rowid, the rowid
	// column on PostgreSQL): it is copied as a column.
	rowid bool
}

// copyTables is every table of the schema (migrations 0001–0009), parents before the tables
// that refer to them. ledger_accounts is a view over ledger_account_names and balances; the
// target keeps its own schema_migrations. A table not listed here makes CopyTo fail, so that a
// later migration's table is never left behind silently.
var copyTables = []copyTable{
	{name: "meta", order: "key"},
	{name: "accounts", order: "seq"},
	{name: "ledger_account_names", order: "id"},
	{name: "balances", order: "ledger_account_id"},
	{name: "transactions", order: "id"},
	{name: "entries", order: "id"},
	{name: "charges", order: "seq"},
	{name: "rejected", order: "id"},
	{name: "outbox", order: "id"},
	{name: "credit_limit_changes", order: "id"},
	{name: "prepaid_lots", order: "seq"},
	{name: "chargebacks", order: "seq"},
	{name: "line_specs", order: "id"},
	{name: "usage_lines", order: "account_id, period, line_id"},
	{name: "billing_runs", order: "period"},
	{name: "document_numbers", order: "kind, year"},
	{name: "invoices", order: "rowid", rowid: true},
	{name: "credit_notes", order: "rowid", rowid: true},
	{name: "payments", order: "created_at, account_id, id"},
	{name: "settlements", order: "id"},
	{name: "disputes", order: "rowid", rowid: true},
	{name: "price_agreements", order: "account_id, version"},
	{name: "claims", order: "seq"},
	{name: "liabilities", order: "account_id"},
	{name: "audit", order: "seq"},
	{name: "outbox_failed", order: "id"},
}

// notCopied are the tables of a database that are not the ledger's data: its migrations, and
// the record of which instance wrote last (cluster_epoch, docs/scaling.md), which each database
// keeps for itself.
var notCopied = map[string]bool{"schema_migrations": true, "cluster_epoch": true}

// CopyProgress is told, as a copy goes, that rows of the total rows of table have been copied.
type CopyProgress func(table string, rows, total int64)

// SchemaVersion reads, without changing anything, the newest migration applied to the database
// at url (0 when it holds no ledger schema) and the newest this binary knows. A SQLite file
// that does not exist is an error: opening it would create an empty ledger.
func SchemaVersion(ctx context.Context, url string) (applied, newest int, err error) {
	eng, err := engineOf(url)
	if err != nil {
		return 0, 0, err
	}
	files, err := migrationsOf(eng)
	if err != nil || len(files) == 0 {
		return 0, 0, err
	}
	newest = files[len(files)-1].version
	db, err := eng.OpenReadOnly(ctx, url)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	var tables []string
	if err := db.SelectContext(ctx, &tables, eng.ListTables); err != nil {
		return 0, 0, fmt.Errorf("read the schema of %s: %w", Redact(url), err)
	}
	if !slices.Contains(tables, "schema_migrations") {
		return 0, newest, nil
	}
	var v stdsql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, 0, fmt.Errorf("read schema_migrations of %s: %w", Redact(url), err)
	}
	return int(v.Int64), newest, nil
}

// CopyTo copies the whole ledger in s into dst, which must hold none (ErrTargetNotEmpty
// otherwise), whatever the engines of the two: every table in foreign-key order, in chunks of
// multi-row INSERTs, inside one transaction on dst, so that a copy that fails leaves nothing
// behind. Values are converted between the engines' types (instants as fixed-width UTC text on
// SQLite and timestamptz on PostgreSQL, the rating as text or json, payloads as BLOB or
// bytea); ids are kept, the rows' order of insertion (rowid) too, and the target's id sequences
// are moved past the source's, so that no id (an outbox message id among them) is ever given
// twice. meta is copied over the target's (the instance id and the test clock); the target
// keeps its schema_migrations. s is read in one snapshot. dst's in-memory state (the chart of
// accounts, the journal's heads, open usage) does not follow: close dst and open it again
// before using it. progress, when set, hears about each table.
func (s *Store) CopyTo(ctx context.Context, dst *Store, progress CopyProgress) (err error) {
	// The same SQLite file cannot be open twice: its lock refuses the second Open.
	if s == dst {
		return errors.New("copy: the source and the target are the same database")
	}
	if err := s.sameSchema(ctx, dst); err != nil {
		return err
	}
	src, err := s.db.BeginTxx(ctx, s.readOptions())
	if err != nil {
		return fmt.Errorf("copy: begin reading the source: %w", err)
	}
	defer src.Rollback()
	tx, err := dst.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("copy: begin writing the target: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// A table is read by one statement, however long it takes: the store's statement timeout
	// is for ledgerd's statements, not for this.
	for _, end := range []struct {
		store *Store
		tx    *sqlx.Tx
	}{{s, src}, {dst, tx}} {
		if end.store.engine.Name == "postgres" {
			if _, err := end.tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
				return fmt.Errorf("copy: %w", err)
			}
		}
	}
	if err := dst.checkEmpty(ctx, tx); err != nil {
		return err
	}
	for _, t := range copyTables {
		if err := s.copyTable(ctx, src, dst, tx, t, progress); err != nil {
			return fmt.Errorf("copy %s: %w", t.name, err)
		}
	}
	if err := s.copySequences(ctx, src, dst, tx); err != nil {
		return fmt.Errorf("copy: id sequences: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("copy: commit: %w", err)
	}
	return nil
}

// readOptions: a PostgreSQL source is read in one read-only snapshot; SQLite's read
// transaction is one by itself (and the file is locked by the store).
func (s *Store) readOptions() *stdsql.TxOptions {
	if s.engine.Name == "postgres" {
		return &stdsql.TxOptions{Isolation: stdsql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// sameSchema checks that both ends are at the same schema version and hold only tables the
// copy knows.
func (s *Store) sameSchema(ctx context.Context, dst *Store) error {
	var a, b stdsql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&a); err != nil {
		return fmt.Errorf("copy: read the source's schema version: %w", err)
	}
	if err := dst.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&b); err != nil {
		return fmt.Errorf("copy: read the target's schema version: %w", err)
	}
	if a != b {
		return fmt.Errorf("copy: the source is at schema version %d, the target at %d", a.Int64, b.Int64)
	}
	known := map[string]bool{}
	for _, t := range copyTables {
		known[t.name] = true
	}
	for _, end := range []struct {
		name  string
		store *Store
	}{{"source", s}, {"target", dst}} {
		tables, err := end.store.tables(ctx)
		if err != nil {
			return fmt.Errorf("copy: list the %s's tables: %w", end.name, err)
		}
		for _, t := range tables {
			if !known[t] && !notCopied[t] {
				return fmt.Errorf("copy: the %s has a table %s that this copy does not know: use the ledgerctl of the ledgerd that made it", end.name, t)
			}
		}
	}
	return nil
}

// tables lists the database's tables (not views, not the engine's own).
func (s *Store) tables(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, s.engine.ListTables); err != nil {
		return nil, err
	}
	return out, nil
}

// checkEmpty fails with ErrTargetNotEmpty, naming every table that has rows, unless the
// database holds no ledger data (meta aside: every database has its instance id).
func (s *Store) checkEmpty(ctx context.Context, q sqlx.QueryerContext) error {
	var full []string
	for _, t := range copyTables {
		if t.name == "meta" {
			continue
		}
		var n int64
		if err := q.QueryRowxContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&n); err != nil {
			return fmt.Errorf("copy: count the target's %s: %w", t.name, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s has %d rows", t.name, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: %s; a copy goes into an empty database only, and nothing was changed", ErrTargetNotEmpty, strings.Join(full, ", "))
	}
	return nil
}

// copyColumn is one column copied, with how its values are converted for the target.
type copyColumn struct {
	name    string
	convert func(v any) (any, error)
}

// columns returns a table's columns and their declared types, as the engine names them
// (SQLite: TEXT, INTEGER, BLOB; PostgreSQL: TEXT, INT8, TIMESTAMPTZ, JSONB, BYTEA). SQLite's
// implicit rowid is added for a table whose rowid is copied.
func (s *Store) columns(ctx context.Context, q sqlx.QueryerContext, t copyTable) ([]string, []string, error) {
	rows, err := q.QueryContext(ctx, `SELECT * FROM `+t.name+` LIMIT 0`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, err
	}
	var names, kinds []string
	for _, ct := range types {
		names = append(names, ct.Name())
		kinds = append(kinds, strings.ToUpper(ct.DatabaseTypeName()))
	}
	if t.rowid && !slices.Contains(names, "rowid") {
		names = append(names, "rowid")
		kinds = append(kinds, "INTEGER")
	}
	return names, kinds, rows.Err()
}

// copyTable copies one table's rows from src (a transaction on s) into tx (on dst).
func (s *Store) copyTable(ctx context.Context, src *sqlx.Tx, dst *Store, tx *sqlx.Tx, t copyTable, progress CopyProgress) error {
	srcNames, _, err := s.columns(ctx, src, t)
	if err != nil {
		return fmt.Errorf("the source's columns: %w", err)
	}
	dstNames, dstKinds, err := dst.columns(ctx, tx, t)
	if err != nil {
		return fmt.Errorf("the target's columns: %w", err)
	}
	var cols []copyColumn
	for i, name := range dstNames {
		if slices.Contains(srcNames, name) {
			cols = append(cols, copyColumn{name, converter(s.engine, dst.engine, t.name+"."+name, dstKinds[i])})
		}
	}
	for _, name := range srcNames {
		if !slices.Contains(dstNames, name) {
			return fmt.Errorf("the source's column %s has no place in the target", name)
		}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	var total int64
	if err := src.QueryRowxContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&total); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+t.name+` ORDER BY `+t.order)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	defer rows.Close()

	perChunk := min(CopyChunkRows, CopyMaxParams/len(cols))
	head := `INSERT INTO ` + t.name + ` (` + strings.Join(names, ", ") + `) VALUES `
	tuple := `(` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	tail := ""
	if t.name == "meta" {
		// The target's own instance id (drawn when it was opened) gives way to the source's.
		tail = ` ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	}
	insert := func(n int, args []any) error {
		var b strings.Builder
		b.Grow(len(head) + n*(len(tuple)+2) + len(tail))
		b.WriteString(head)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
		b.WriteString(tail)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	}

	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	args := make([]any, 0, perChunk*len(cols))
	var copied, reported int64
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		for i, c := range cols {
			v, err := c.convert(values[i])
			if err != nil {
				return fmt.Errorf("row %d: %w", copied+int64(n)+1, err)
			}
			args = append(args, v)
		}
		n++
		if n == perChunk {
			if err := insert(n, args); err != nil {
				return err
			}
			copied += int64(n)
			args, n = args[:0], 0
			if progress != nil && copied-reported >= CopyProgressRows {
				progress(t.name, copied, total)
				reported = copied
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if n > 0 {
		if err := insert(n, args); err != nil {
			return err
		}
		copied += int64(n)
	}
	if progress != nil {
		progress(t.name, copied, total)
	}
	if copied != total {
		return fmt.Errorf("read %d rows of %d counted", copied, total)
	}
	return nil
}

// converter returns how a value of column (table.column) read from the engine from becomes
// the value written to the engine to, whose declared type of the column is kind. Between
// databases of one engine values pass unchanged.
func converter(from, to *Engine, column, kind string) func(any) (any, error) {
	same := func(v any) (any, error) { return v, nil }
	if from == to {
		return same
	}
	if to.Name == "postgres" {
		switch kind {
		case "TIMESTAMPTZ":
			// SQLite's fixed-width UTC text.
			return func(v any) (any, error) {
				var s string
				switch v := v.(type) {
				case nil, time.Time:
					return v, nil
				case string:
					s = v
				case []byte:
					s = string(v)
				default:
					return nil, fmt.Errorf("%s: %T %v is not an instant", column, v, v)
				}
				t, err := parseTime(s)
				if err != nil {
					return nil, fmt.Errorf("%s: %q is not an instant: %w", column, s, err)
				}
				return t, nil
			}
		case "BYTEA":
			return func(v any) (any, error) {
				if s, ok := v.(string); ok {
					return []byte(s), nil
				}
				return v, nil
			}
		default: // TEXT, JSON (the rating's JSON text), INT8
			return func(v any) (any, error) {
				if b, ok := v.([]byte); ok {
					return string(b), nil
				}
				return v, nil
			}
		}
	}
	// To SQLite, from PostgreSQL.
	if kind == "BLOB" {
		return same
	}
	return func(v any) (any, error) {
		switch v := v.(type) {
		case time.Time:
			return fmtTime(v), nil
		case []byte: // json
			return string(v), nil
		}
		return v, nil
	}
}

// copySequences moves the target's id sequences past the highest id each table has held in
// the source, the rows it has deleted since (the outbox's relayed events) included: an id is
// never given twice, and the outbox's message ids (instance and id) stay unique.
func (s *Store) copySequences(ctx context.Context, src *sqlx.Tx, dst *Store, tx *sqlx.Tx) error {
	used, err := s.usedIDs(ctx, src)
	if err != nil {
		return fmt.Errorf("read the source's: %w", err)
	}
	if dst.engine.Name == "postgres" {
		idents, err := identityColumns(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range idents {
			floor := int64(0)
			if c[1] != "rowid" {
				floor = used[c[0]]
			}
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), greatest(coalesce(max(`+c[1]+`), 0), CAST(? AS bigint)) + 1, false) FROM `+c[0],
				c[0], c[1], floor); err != nil {
				return fmt.Errorf("%s.%s: %w", c[0], c[1], err)
			}
		}
		return nil
	}
	// SQLite: an AUTOINCREMENT table never gives an id below its sqlite_sequence row.
	var auto []string
	if err := tx.SelectContext(ctx, &auto, `SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'`); err != nil {
		return err
	}
	for _, t := range auto {
		floor, ok := used[t]
		if !ok || floor == 0 {
			continue
		}
		res, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`, floor, t)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)`, t, floor); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
	}
	return nil
}

// usedIDs returns, per table, the highest id its sequence has given in s (the table's own id
// column; on PostgreSQL not the rowid column, which only orders).
func (s *Store) usedIDs(ctx context.Context, src *sqlx.Tx) (map[string]int64, error) {
	if s.engine.Name == "sqlite" {
		return int64sByName(ctx, src, `SELECT name, seq FROM sqlite_sequence`)
	}
	used := map[string]int64{}
	idents, err := identityColumns(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, c := range idents {
		if c[1] == "rowid" {
			continue
		}
		var seq string
		if err := src.QueryRowxContext(ctx, `SELECT pg_get_serial_sequence(?, ?)`, c[0], c[1]).Scan(&seq); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", c[0], c[1], err)
		}
		var last int64
		if err := src.QueryRowxContext(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM `+seq).Scan(&last); err != nil {
			return nil, fmt.Errorf("%s: %w", seq, err)
		}
		used[c[0]] = last
	}
	return used, nil
}

// identityColumns lists a PostgreSQL database's identity columns as (table, column).
func identityColumns(ctx context.Context, q sqlx.QueryerContext) ([][2]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name, column_name`)
	if err != nil {
		return nil, fmt.Errorf("list identity columns: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CopyReport is what VerifyCopy found equal at both ends.
type CopyReport struct {
	Tables      int   // tables compared
	Rows        int64 // rows in them, all together
	Accounts    int   // customer accounts whose ledger balances were compared
	Invoices    int
	CreditNotes int
}

// VerifyCopy compares the ledger in s with its copy in dst (opened after CopyTo): the rows of
// every table, per customer account the sum of its ledger accounts' balances (and that of the
// ledger accounts of no customer), the invoice and credit-note numbers; then it runs
// CheckInvariants on dst. It returns every difference found, joined, or nil with what it
// compared.
func (s *Store) VerifyCopy(ctx context.Context, dst *Store) (CopyReport, error) {
	var r CopyReport
	var diffs []error
	for _, t := range copyTables {
		var a, b int64
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&a); err != nil {
			return r, fmt.Errorf("verify: count the source's %s: %w", t.name, err)
		}
		if err := dst.db.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&b); err != nil {
			return r, fmt.Errorf("verify: count the target's %s: %w", t.name, err)
		}
		if a != b {
			diffs = append(diffs, fmt.Errorf("rows of %s: source %d, target %d", t.name, a, b))
		}
		r.Tables++
		r.Rows += a
	}

	const balances = `SELECT coalesce(account_id, ''), CAST(sum(balance_micros) AS BIGINT) FROM ledger_accounts
		GROUP BY coalesce(account_id, '') ORDER BY 1`
	a, err := int64sByName(ctx, s.db, balances)
	if err != nil {
		return r, fmt.Errorf("verify: the source's balances: %w", err)
	}
	b, err := int64sByName(ctx, dst.db, balances)
	if err != nil {
		return r, fmt.Errorf("verify: the target's balances: %w", err)
	}
	var bad []string
	for _, k := range unionKeys(a, b) {
		if a[k] != b[k] {
			name := "account " + k
			if k == "" {
				name = "the ledger accounts of no customer"
			}
			bad = append(bad, fmt.Sprintf("%s: source %d, target %d micro-EUR", name, a[k], b[k]))
		}
		if k != "" {
			r.Accounts++
		}
	}
	if len(bad) > 0 {
		diffs = append(diffs, fmt.Errorf("ledger balances differ: %s", limitList(bad)))
	}

	for _, ids := range []struct {
		what, query string
		count       *int
	}{
		{"invoices", `SELECT id FROM invoices ORDER BY id`, &r.Invoices},
		{"credit notes", `SELECT id FROM credit_notes ORDER BY id`, &r.CreditNotes},
	} {
		var a, b []string
		if err := s.db.SelectContext(ctx, &a, ids.query); err != nil {
			return r, fmt.Errorf("verify: the source's %s: %w", ids.what, err)
		}
		if err := dst.db.SelectContext(ctx, &b, ids.query); err != nil {
			return r, fmt.Errorf("verify: the target's %s: %w", ids.what, err)
		}
		// Compared in Go's order: the engines' collations differ.
		slices.Sort(a)
		slices.Sort(b)
		*ids.count = len(a)
		if missing, extra := setDiff(a, b), setDiff(b, a); len(missing)+len(extra) > 0 {
			diffs = append(diffs, fmt.Errorf("%s differ: not in the target %s; only in the target %s", ids.what, limitList(missing), limitList(extra)))
		}
	}

	if err := dst.CheckInvariants(ctx); err != nil {
		diffs = append(diffs, fmt.Errorf("the target's invariants: %w", err))
	}
	return r, errors.Join(diffs...)
}

// int64sByName reads the rows (name, number) that q selects into a map.
func int64sByName(ctx context.Context, db sqlx.QueryerContext, q string) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func unionKeys(a, b map[string]int64) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// setDiff returns the elements of a (sorted) not in b (sorted).
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

// limitList writes at most CopyMaxDifferences items, and how many more there are.
func limitList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	if len(items) <= CopyMaxDifferences {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:CopyMaxDifferences], ", ") + fmt.Sprintf(" and %d more", len(items)-CopyMaxDifferences)
}

// RowCounts counts the rows of every table of the ledger's data (ledgerbench's rows per event).
func (s *Store) RowCounts(ctx context.Context) (map[string]int64, error) {
	counts := make(map[string]int64, len(copyTables))
	for _, t := range copyTables {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
		counts[t.name] = n
	}
	return counts, nil
}
