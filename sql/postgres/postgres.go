// Package postgres is the store's PostgreSQL adapter: importing it registers the engine that
// sql.Open uses for postgres:// URLs. It connects through pgx's database/sql driver, wrapped
// so that the store's ? placeholders become $1, $2, …; its connections add what database/sql
// lacks: a pipeline of statements sent together (sql.Pipeline) and COPY (sql.BulkCopier).
package postgres

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"

	"ledger/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

func init() { sql.Register(Engine) }

// The keys of ledgerd's advisory locks: the cluster's writer lock, the leader lease, migrations.
const (
	writerKey  = "1818584161"
	leaderKey  = "1818584162"
	migrateKey = "1818584163"
)

// Engine is PostgreSQL: a batch's charges go in by COPY, its journal entries and balance updates
// as integer arrays (unnest); the other JSON arrays rows travel in are unpacked by
// jsonb_array_elements, with each field cast to its column's type (PostgreSQL does not cast
// text to bigint on its own).
var Engine = &sql.Engine{
	Name:         "postgres",
	Schemes:      []string{"postgres://", "postgresql://"},
	Connect:      connect,
	OpenReadOnly: open,
	Begin:        "BEGIN ISOLATION LEVEL READ COMMITTED",
	XactID:       "SELECT CAST(pg_current_xact_id() AS text)",
	BulkCopy:     true,
	ArrayParams:  true,
	ReserveIDs:   `SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)`,
	// Several ledgerd on one database (docs/scaling.md): advisory locks, by key.
	WriterLock:    `SELECT pg_advisory_xact_lock(` + writerKey + `)`,
	LeaderLock:    `SELECT pg_try_advisory_lock(` + leaderKey + `)`,
	LeaderHeld:    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = ` + leaderKey + ` AND objsubid = 1)`,
	LeaderUnlock:  `SELECT pg_advisory_unlock(` + leaderKey + `)`,
	MigrateLock:   `SELECT pg_advisory_lock(` + migrateKey + `)`,
	MigrateUnlock: `SELECT pg_advisory_unlock(` + migrateKey + `)`,
	ListTables:    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
	ReserveSeqs:   `SELECT setval(r.seq, nextval(r.seq) + r.n - 1) - r.n + 1 FROM (SELECT pg_get_serial_sequence(?, 'seq') AS seq, CAST(? AS bigint) AS n) AS r`,
	RatingType:    `SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'charges' AND column_name = 'rating'`,
	Statements: map[string]string{
		// The customers' ledger accounts summed in one pass and joined by account id (an account
		// id has no ':', CONTRACT 2), rather than three index lookups per account: 10,000
		// accounts read in 65 ms instead of 220 (a standby reads them every second the leader
		// writes, docs/scaling.md).
		"creditRows": `SELECT a.id, a.type, a.status, a.closed_at, a.credit_limit_micros, a.notified_thresholds, a.indexation,
		coalesce(c.exposure, 0)
		FROM accounts a LEFT JOIN (
		  SELECT split_part(n.name, ':', 2) AS account, sum(b.balance_micros) AS exposure
		  FROM ledger_account_names n JOIN balances b ON b.ledger_account_id = n.id
		  WHERE n.name LIKE 'customer:%' AND split_part(n.name, ':', 3) IN ('unbilled', 'receivable', 'credit')
		  GROUP BY 1) c ON c.account = a.id`,
		"lookupCharged": `SELECT event_id, content_hash FROM charges
		WHERE event_id IN (SELECT jsonb_array_elements_text(?::jsonb))`,
		"lookupParked": `SELECT id, event_key, content_hash FROM rejected
		WHERE resolved_at IS NULL AND event_key IN (SELECT jsonb_array_elements_text(?::jsonb))`,
		"insertEntryArrays": `INSERT INTO entries(id, transaction_id, ledger_account_id, amount_micros, event_count, prev_id)
		SELECT d.id, ?, d.account, d.amount, d.events, nullif(d.prev, 0)
		FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS d(id, account, amount, events, prev)`,
		"addBalanceArrays": `UPDATE balances SET balance_micros = balance_micros + d.amount, last_entry_id = d.entry
		FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS d(entry, id, amount)
		WHERE balances.ledger_account_id = d.id`,
		"upsertUsageLineArrays": `INSERT INTO usage_lines(account_id, period, line_id, quantity, micros, events)
			SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
			ON CONFLICT(account_id, period, line_id) DO UPDATE SET quantity = excluded.quantity,
			micros = excluded.micros, events = excluded.events`,
		// The accounts are found by their key (= ANY of the batch's few ids): joined with the
		// array alone, the planner, which takes a set-returning function for 100 rows, scanned
		// all of accounts and hashed it, 5 ms a batch at 10,000 accounts (auto_explain, issue 19).
		"countInvalidCallerID": `WITH d AS MATERIALIZED (SELECT value->>0 AS id, (value->>1)::bigint AS n FROM jsonb_array_elements(?::jsonb))
			UPDATE accounts SET invalid_caller_id_calls = invalid_caller_id_calls + d.n FROM d
			WHERE accounts.id = d.id AND accounts.id = ANY (ARRAY(SELECT id FROM d))`,
		"deleteOutbox": `DELETE FROM outbox WHERE id IN (SELECT jsonb_array_elements_text(?::jsonb)::bigint)`,
		"newInstance":  `INSERT INTO meta(key, value) VALUES ('instance', substr(md5(random()::text || clock_timestamp()::text), 1, 16)) ON CONFLICT(key) DO NOTHING`,
	},
	UniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
}

// PostgreSQL limits.
const (
	// PostgresConnectTimeoutSeconds bounds a connection attempt when the URL names none.
	PostgresConnectTimeoutSeconds = 10
	// PostgresStatementTimeoutMS bounds one statement (a billing run's statements included) when
	// the URL sets no statement_timeout: a statement stuck behind a lock fails instead of
	// stalling ingestion for ever.
	PostgresStatementTimeoutMS = 300_000
)

// open connects to the PostgreSQL database named by url (postgres://…), through pgx's
// database/sql driver wrapped so that the store's ? placeholders become $1, $2, ….
func open(ctx context.Context, url string) (*sqlx.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL; ours names it without the password.
		return nil, fmt.Errorf("--db %s: not a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS])", sql.Redact(url))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = PostgresConnectTimeoutSeconds * 1e9
	}
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok {
		cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(PostgresStatementTimeoutMS)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	db := stdsql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", sql.Redact(url), sql.ScrubPasswords(err, url))
	}
	return sqlx.NewDb(db, "pgx"), nil
}

// connect opens the pool of a postgres:// URL.
func connect(ctx context.Context, url string) (sql.Connection, error) {
	db, err := open(ctx, url)
	if err != nil {
		return sql.Connection{}, err
	}
	return sql.Connection{DB: db}, nil
}

type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn)}, nil
}

// pgConn is a pgx connection whose statements are rebound from ? to $n; everything else
// (transactions, value conversion, session reset) is pgx's own, but for the pipeline.
//
// The pipeline (sql.Pipeline) holds statements the store sends later (writes whose results
// the transaction does not read back, while a billing run issues invoices). They go to the server
// together, in one round trip, before anything else runs on the connection — a query, a
// statement, COMMIT — so the transaction reads its own writes as if each had been sent at once.
// The store discards them before it rolls back: they belonged to what is rolled back. A full pipeline is sent without
// waiting for its results (send), so that the server runs it while the store prepares the next;
// the results are read before anything else runs on the connection.
type pgConn struct {
	*stdlib.Conn
	pipe        *pgx.Batch
	piped       []string // the statements queued, for the error of one that fails
	inflight    pgx.BatchResults
	inflightSQL []string
	pipeErr     error // a queued statement's failure, until the transaction ends
}

// Enqueue adds a statement with ? placeholders to the pipeline, its arguments converted as
// CheckNamedValue converts them (pgx takes every other value as it is).
func (c *pgConn) Enqueue(query string, args []any) (int, error) {
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = boolAsInt(a)
	}
	if c.pipe == nil {
		c.pipe = &pgx.Batch{}
	}
	query = rebindCached(query)
	c.pipe.Queue(query, values...)
	c.piped = append(c.piped, query)
	return len(c.piped), nil
}

// Send sends the queued statements in one round trip, after reading the results of those sent
// before, and returns without waiting for theirs.
func (c *pgConn) Send(ctx context.Context) error {
	if err := c.wait(); err != nil {
		return err
	}
	if len(c.piped) == 0 {
		return nil
	}
	c.inflight, c.inflightSQL = c.Conn.Conn().SendBatch(ctx, c.pipe), c.piped
	c.pipe, c.piped = nil, nil
	return nil
}

// wait reads the results of the statements sent and returns the first failure.
func (c *pgConn) wait() error {
	if c.pipeErr != nil {
		return c.pipeErr
	}
	if c.inflight == nil {
		return nil
	}
	results, piped := c.inflight, c.inflightSQL
	c.inflight, c.inflightSQL = nil, nil
	for _, q := range piped {
		if _, err := results.Exec(); err != nil {
			results.Close()
			c.pipeErr = fmt.Errorf("pipelined statement %q: %w", firstLine(q), err)
			return c.pipeErr
		}
	}
	if err := results.Close(); err != nil {
		c.pipeErr = fmt.Errorf("pipelined statements: %w", err)
	}
	return c.pipeErr
}

// Flush sends the pipeline's statements and waits for them: afterwards the connection is free
// and the transaction's reads see every write queued.
func (c *pgConn) Flush(ctx context.Context) error {
	if err := c.Send(ctx); err != nil {
		return err
	}
	return c.wait()
}

// Discard drops the pipeline and its failure (the transaction ended); results still on their
// way are read and dropped, so that the connection is free.
func (c *pgConn) Discard() {
	if c.inflight != nil {
		c.inflight.Close()
	}
	c.pipe, c.piped, c.inflight, c.inflightSQL, c.pipeErr = nil, nil, nil, nil, nil
}

func firstLine(q string) string {
	if i := strings.IndexByte(q, '\n'); i > 0 {
		return q[:i] + " …"
	}
	return q
}

// boolAsInt sends a Go bool as 0 or 1: the store's flags are integer columns on both engines
// (SQLite has no boolean), and pgx would refuse to encode a bool into bigint.
func boolAsInt(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

func (c *pgConn) ResetSession(ctx context.Context) error {
	c.Discard()
	return c.Conn.ResetSession(ctx)
}

func (c *pgConn) Close() error {
	c.Discard()
	return c.Conn.Close()
}

// rebound caches rebind's answers: the store sends the same few hundred statements for ever.
var rebound sync.Map

func rebindCached(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	q := rebind(query)
	rebound.Store(query, q)
	return q
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.Flush(ctx); err != nil {
		return nil, err
	}
	st, err := c.Conn.PrepareContext(ctx, rebindCached(query))
	if err != nil {
		return nil, err
	}
	return &pgStmt{st, c}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.Flush(ctx); err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, rebindCached(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.Flush(ctx); err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, rebindCached(query), args)
}

// pgStmt is a prepared statement of a pgConn: the pipeline goes first.
type pgStmt struct {
	driver.Stmt
	conn *pgConn
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.conn.Flush(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.Flush(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// CopyRows writes rows into table by COPY, inside the transaction in progress, after what the
// pipeline holds (sql.BulkCopier).
func (c *pgConn) CopyRows(ctx context.Context, table string, columns []string, data []byte) error {
	if err := c.Flush(ctx); err != nil {
		return err
	}
	quoted := make([]string, len(columns))
	for i, col := range columns {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	q := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN (FORMAT binary)"
	_, err := c.Conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), q)
	return err
}

var (
	_ sql.Pipeline   = (*pgConn)(nil)
	_ sql.BulkCopier = (*pgConn)(nil)
)

// CheckNamedValue sends a Go bool as 0 or 1 (boolAsInt); pgx takes the rest as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if _, ok := nv.Value.(bool); ok {
		nv.Value = boolAsInt(nv.Value)
		return nil
	}
	return c.Conn.CheckNamedValue(nv)
}

// CreateDatabase creates the database name on the PostgreSQL server serverURL names (a copy of
// the database template when it is not empty) and returns the URL of the new database. For the
// tests, the benchmarks and a first setup: ledgerd itself never creates a database.
func CreateDatabase(ctx context.Context, serverURL, name, template string) (string, error) {
	url, err := DatabaseURL(serverURL, name)
	if err != nil {
		return "", err
	}
	q := `CREATE DATABASE ` + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += ` TEMPLATE ` + pgx.Identifier{template}.Sanitize()
	}
	if err := onServer(ctx, serverURL, q); err != nil {
		return "", fmt.Errorf("create database %s on %s: %w", name, sql.Redact(serverURL), err)
	}
	return url, nil
}

// DropDatabase drops the database name on the server serverURL names, closing the connections
// still open to it (a store a failed test left open must not keep its database).
func DropDatabase(ctx context.Context, serverURL, name string) error {
	if err := onServer(ctx, serverURL, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s on %s: %w", name, sql.Redact(serverURL), err)
	}
	return nil
}

// DatabaseURL returns serverURL with its database replaced by name.
func DatabaseURL(serverURL, name string) (string, error) {
	u, err := neturl.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL", sql.Redact(serverURL))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// onServer runs one statement on its own connection to the server.
func onServer(ctx context.Context, serverURL, statement string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return sql.ScrubPasswords(err, serverURL)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}

// rebind numbers the ? placeholders of query as PostgreSQL's $1, $2, … (outside quoted text).
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	quote := byte(0)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			// ?NNN names a parameter by number (SQLite's form): $NNN; a bare ? is the next one.
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
