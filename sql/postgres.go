package sql

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"fmt"
	neturl "net/url"
	"strings"
	"sync"

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
	return &pgConn{conn.(*stdlib.Conn)}, nil
}

// pgConn is a pgx connection whose statements are rebound from ? to $n; everything else
// (transactions, value conversion, session reset) is pgx's own.
type pgConn struct{ *stdlib.Conn }

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
	return c.Conn.Prepare(rebindCached(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebindCached(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebindCached(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebindCached(query), args)
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
