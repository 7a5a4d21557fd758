package sql

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"fmt"
	neturl "net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// PostgreSQL limits.
const (
	// PostgresConnectTimeoutSeconds bounds a connection attempt when the URL names none.
	PostgresConnectTimeoutSeconds = 10
	// PostgresStatementTimeoutMS bounds one statement (a billing run's statements included) when
	// the URL sets no statement_timeout: a statement stuck behind a lock fails instead of
	// stalling ingestion for ever.
	PostgresStatementTimeoutMS = 300_000
)

// openPostgres connects to the PostgreSQL database named by url (postgres://…), through pgx's
// database/sql driver wrapped so that the store's ? placeholders become $1, $2, ….
func openPostgres(ctx context.Context, url string) (*sqlx.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL; ours names it without the password.
		return nil, fmt.Errorf("--db %s: not a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS])", Redact(url))
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
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", Redact(url), ScrubPasswords(err, url))
	}
	return sqlx.NewDb(db, "pgx"), nil
}

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

// pgConnector hands out connections that number placeholders.
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
// The pipeline holds statements the store sends later (Store.later: writes whose results the
// transaction does not read back, while a billing run issues invoices). They go to the server
// together, in one round trip, before anything else runs on the connection — a query, a
// statement, COMMIT — so the transaction reads its own writes as if each had been sent at once.
// ROLLBACK drops them: they belonged to what is rolled back. A full pipeline is sent without
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

// enqueue adds a statement to the pipeline.
func (c *pgConn) enqueue(query string, args []any) {
	if c.pipe == nil {
		c.pipe = &pgx.Batch{}
	}
	c.pipe.Queue(query, args...)
	c.piped = append(c.piped, query)
}

// queued is how many statements wait in the pipeline.
func (c *pgConn) queued() int { return len(c.piped) }

// send sends the queued statements in one round trip, after reading the results of those sent
// before, and returns without waiting for theirs.
func (c *pgConn) send(ctx context.Context) error {
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

// flush sends the pipeline's statements and waits for them: afterwards the connection is free
// and the transaction's reads see every write queued.
func (c *pgConn) flush(ctx context.Context) error {
	if err := c.send(ctx); err != nil {
		return err
	}
	return c.wait()
}

// discard drops the pipeline and its failure (the transaction ended); results still on their
// way are read and dropped, so that the connection is free.
func (c *pgConn) discard() {
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

// pipeArg converts a value as the connection's CheckNamedValue and database/sql would: bools to
// 0 or 1, named integer and string types to their kinds, driver.Valuers to their values.
func pipeArg(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, int64, []byte, time.Time:
		return v, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int:
		return int64(x), nil
	case driver.Valuer:
		return x.Value()
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), nil
	case reflect.String:
		return r.String(), nil
	}
	return nil, fmt.Errorf("pipeline: cannot send a %T", v)
}

func (c *pgConn) ResetSession(ctx context.Context) error {
	c.discard()
	return c.Conn.ResetSession(ctx)
}

func (c *pgConn) Close() error {
	c.discard()
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
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	st, err := c.Conn.PrepareContext(ctx, rebindCached(query))
	if err != nil {
		return nil, err
	}
	return &pgStmt{st, c}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if strings.HasPrefix(query, "ROLLBACK") {
		c.discard()
	} else if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, rebindCached(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.flush(ctx); err != nil {
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
	if err := s.conn.flush(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.flush(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// pgxConn returns the native pgx connection under a database/sql connection of the store (for
// CopyFrom and batches).
func pgxConn(driverConn any) (*pgx.Conn, bool) {
	c, ok := driverConn.(*pgConn)
	if !ok {
		return nil, false
	}
	return c.Conn.Conn(), true
}

// CheckNamedValue sends a Go bool as 0 or 1: the store's flags are integer columns on both
// engines (SQLite has no boolean), and pgx would refuse to encode a bool into bigint.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
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
		return "", fmt.Errorf("create database %s on %s: %w", name, Redact(serverURL), err)
	}
	return url, nil
}

// DropDatabase drops the database name on the server serverURL names, closing the connections
// still open to it (a store a failed test left open must not keep its database).
func DropDatabase(ctx context.Context, serverURL, name string) error {
	if err := onServer(ctx, serverURL, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s on %s: %w", name, Redact(serverURL), err)
	}
	return nil
}

// DatabaseURL returns serverURL with its database replaced by name.
func DatabaseURL(serverURL, name string) (string, error) {
	u, err := neturl.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL", Redact(serverURL))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// onServer runs one statement on its own connection to the server.
func onServer(ctx context.Context, serverURL, statement string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return ScrubPasswords(err, serverURL)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}
