package sql

import (
	"context"
	stdsql "database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"ledger/billing"
	"ledger/ledger"
	"ledger/pricing"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Limits of the store.
const (
	// MaxReadConnections bounds concurrent readers (API requests); the writer has its own.
	MaxReadConnections = 8
	// BusyTimeoutMS is how long a statement waits for a lock before failing.
	BusyTimeoutMS = 10_000
)

// Store is the ledger's database.
type Store struct {
	db    *sqlx.DB     // readers
	write *stdsql.Conn // the one writer
	// forgetFrom is the seq ForgetPseudonyms starts its walk after: below it no charge held a
	// pseudonym at its last walk (a charge's seq only grows; a pseudonym is never set again).
	forgetFrom atomic.Int64
	writeMu    sync.Mutex
	stmts      map[string]*stdsql.Stmt
	instance   string // random id of this database, for outgoing message ids
	engine     *Engine
	unlock     func() // releases the SQLite file's lock (Close)
	// ratingJSONB: charges.rating is jsonb, not json (Engine.RatingType), and COPY writes it so.
	ratingJSONB bool
	// writerLost says why the writer connection is gone (PostgreSQL); the next write, or a
	// readiness check, connects again. Guarded by writeMu.
	writerLost error

	// ledgerAccounts caches the chart of accounts (name → id) for the writer (guarded by
	// writeMu). Only committed ledger accounts are in it.
	ledgerAccounts struct {
		ids     map[string]int64
		pending map[string]int64 // created by the transaction in progress
	}
	// journal is the writer's view of the entry chains (guarded by writeMu): the next entry id
	// and each ledger account's newest entry, committed and, during a transaction, pending.
	journal struct {
		next, pendingNext int64
		heads, pending    map[int64]int64
	}
	// afterCommit runs once the transaction in progress has committed (guarded by writeMu).
	afterCommit []func()
	// pipelining queues writes (later, pipeline.go) during a billing run; reservedIDs are ids
	// taken from the sequences ahead of need; numbers are the document numbers the transaction
	// in progress took, by kind and year (guarded by writeMu).
	pipelining  bool
	reservedIDs map[string][]int64
	numbers     map[numberKey]int64
	// balanceDeltas are what the pipelined transactions add to each ledger account's balance,
	// written once (writeBalances): PostgreSQL slows down on a row updated thousands of times
	// in one transaction (each update walks the row's versions), and revenue and VAT are in
	// every invoice. numbersTaken are the series nextNumber counted on in memory.
	balanceDeltas map[int64]int64
	numbersTaken  map[numberKey]bool

	// onOutbox, when set (SetOnOutbox), is called after a commit that wrote outgoing events
	// (the relay's wake-up); it must not block.
	onOutbox    func()
	url         string // as opened; Location redacts it
	wroteOutbox bool   // in the transaction in progress (guarded by writeMu)

	// Credit control (UseCredit); nil: none. Guarded by writeMu for writes.
	credit *ledger.CreditBook
	policy ledger.CreditPolicy
	// pendingCredits are the credits the transaction in progress changed, until it commits.
	pendingCredits map[string]ledger.Credit
	// usageCredits is the array the ingestion's credit control writes a commit group's new
	// credits into, applied to the book at commit (evaluateCreditInto; guarded by writeMu).
	usageCredits []ledger.Credit

	// Prepaid credit (guarded by writeMu).
	prepaid prepaidState

	// Open usage per invoice line (lines.go).
	lines usageLines
	// entryRows is the writer's buffer of entries' COPY data (copyEntries; guarded by writeMu).
	entryRows copyRows
	// tariffs are those agreements are built against and invoices take their indexation notes
	// from (UsePricing).
	tariffs atomic.Pointer[pricing.Tariffs]
	// Invoicing (UseInvoicing); nil: no clock-driven billing (guarded by writeMu).
	invoicing *billing.Invoicing

	// cluster is the store's part when several ledgerd share the database (cluster.go).
	cluster cluster
	// agreements are the agreements in force as last built, by account (readAgreements).
	agreementsMu sync.Mutex
	agreements   map[string]cachedAgreement
}

// timeLayout stores instants as fixed-width UTC text, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads an instant scanned into a string: SQLite's text, or a PostgreSQL timestamptz
// (database/sql writes a time.Time into a string as RFC 3339).
func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// instant scans a nullable instant column as either engine gives it (text on SQLite,
// timestamptz on PostgreSQL); NULL is the zero time.
type instant struct{ time.Time }

// Scan implements sql.Scanner.
func (t *instant) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("an instant cannot be %T", v)
	}
	return nil
}

func (t *instant) parse(s string) (err error) {
	t.Time, err = parseTime(s)
	return err
}

// Instance is the database's own random id, made when it was created; it moves with a copy.
func (s *Store) Instance() string { return s.instance }

// Open opens (creating it if needed) the database named by url and brings its schema up to date.
// url is sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS].
func Open(ctx context.Context, url string) (*Store, error) {
	eng, err := engineOf(url)
	if err != nil {
		return nil, err
	}
	conn, err := eng.Connect(ctx, url)
	if err != nil {
		return nil, damaged(eng, url, err)
	}
	conn.DB.SetMaxOpenConns(MaxReadConnections + 1)
	conn.DB.SetMaxIdleConns(MaxReadConnections + 1)
	conn.DB.SetConnMaxLifetime(0)
	s := &Store{db: conn.DB, engine: eng, stmts: map[string]*stdsql.Stmt{}, unlock: conn.Unlock, url: url}
	s.cluster.epoch, s.cluster.viewEpoch, s.cluster.linesEpoch = NoEpoch, NoEpoch, NoEpoch
	s.cluster.known.Store(NoEpoch)
	if s.write, err = conn.DB.Conn(ctx); err != nil {
		s.Close()
		return nil, damaged(eng, url, fmt.Errorf("open %s: %w", Redact(url), ScrubPasswords(err, url)))
	}
	for _, statement := range eng.WriterSetup {
		if _, err := s.write.ExecContext(ctx, statement); err != nil {
			s.Close()
			return nil, damaged(eng, url, fmt.Errorf("open %s: %s: %w", Redact(url), statement, err))
		}
	}
	// A damaged file is found before anything is read from it or written to it.
	if err := s.checkPages(ctx, eng.QuickCheck); err != nil {
		s.Close()
		return nil, err
	}
	// The schema first, then the writer's statements and its view of the journal, lots and lines.
	for _, step := range []func(context.Context) error{s.migrate, s.readRatingType, s.prepare, s.loadLedgerAccounts, s.loadPrepaid, s.loadLines} {
		if err := step(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// readRatingType learns how charges.rating is kept (Engine.RatingType).
func (s *Store) readRatingType(ctx context.Context) error {
	if s.engine.RatingType == "" {
		return nil
	}
	var kind string
	if err := s.write.QueryRowContext(ctx, s.engine.RatingType).Scan(&kind); err != nil {
		return fmt.Errorf("read the type of charges.rating: %w", err)
	}
	s.ratingJSONB = kind == "jsonb"
	return nil
}

// Notes are what an operator should know about the database at start (ledgerd logs them).
func (s *Store) Notes() []string {
	if s.ratingJSONB {
		return []string{"charges.rating is still jsonb and charges.event_id compared by the database's collation: migration 0014 left this ledger of more than 10 million charges as it was; " +
			"each charge costs PostgreSQL about 2 µs more than it needs to. The README's \"Migration 0014 on a large PostgreSQL ledger\" (under Choosing a store) gives the statements for a maintenance window"}
	}
	return nil
}

// ErrDamaged says the database's own check found damaged pages.
var ErrDamaged = errors.New("the database is damaged")

// damaged marks err as ErrDamaged when the engine says it comes from a damaged file.
func damaged(eng *Engine, url string, err error) error {
	if eng.Damaged == nil || !eng.Damaged(err) {
		return err
	}
	return fmt.Errorf("%w: %s: %v; restore it from a backup", ErrDamaged, Redact(url), err)
}

// checkPages runs the engine's page check (check: its statement, "" for none) and refuses a
// database that does not answer "ok".
func (s *Store) checkPages(ctx context.Context, check string) error {
	if check == "" {
		return nil
	}
	found, err := s.checkRows(ctx, check)
	if err == nil && len(found) == 1 && found[0] == "ok" {
		return nil
	}
	what := strings.Join(found, "; ")
	if err != nil {
		what = err.Error()
	}
	return fmt.Errorf("%w: %s: %s found %s; restore it from a backup (ledgerctl db check lists what the thorough check finds)",
		ErrDamaged, Redact(s.url), check, what)
}

// checkRows reads the first lines a page check answers.
func (s *Store) checkRows(ctx context.Context, check string) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, check)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []string
	for rows.Next() && len(found) < 10 {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		found = append(found, strings.Join(strings.Fields(line), " "))
	}
	return found, rows.Err()
}

// CheckPages runs the engine's thorough page check (SQLite's integrity_check); nil where the
// engine has none or finds nothing.
func (s *Store) CheckPages(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.checkPages(ctx, s.engine.IntegrityCheck)
}

// Close releases the database.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	if s.write != nil {
		s.write.Close()
	}
	err := s.db.Close()
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	return err
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if s.writeMu.TryLock() {
		defer s.writeMu.Unlock()
		if s.writerLost != nil {
			// Reconnect now rather than at the next write: readiness follows the database.
			return s.reconnectWriter(ctx)
		}
	}
	return nil
}

// migrationFile is one embedded migration: NNNN_what.sql under migrations/<engine>/.
type migrationFile struct {
	version    int
	name, path string
}

// migrationsOf returns the engine's migrations in version order.
func migrationsOf(e *Engine) ([]migrationFile, error) {
	dir := "migrations/" + e.Name
	entries, err := migrations.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", e.Name, err)
	}
	files := make([]migrationFile, 0, len(entries))
	for _, entry := range entries {
		version, err := strconv.Atoi(strings.SplitN(entry.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its version number", entry.Name())
		}
		files = append(files, migrationFile{version: version, name: entry.Name(), path: dir + "/" + entry.Name()})
	}
	slices.SortFunc(files, func(a, b migrationFile) int { return a.version - b.version })
	return files, nil
}

// migrate applies, in order and each in its own transaction, the migrations not yet applied.
func (s *Store) migrate(ctx context.Context) error {
	unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	files, err := migrationsOf(s.engine)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		// A database migrated by a newer ledgerd holds tables and rules this binary does not
		// know: writing to it could break them, so it is refused.
		newest := files[len(files)-1].version
		var applied stdsql.NullInt64
		if err := s.write.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&applied); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if applied.Valid && applied.Int64 > int64(newest) {
			var name string
			_ = s.write.QueryRowContext(ctx, `SELECT name FROM schema_migrations WHERE version = ?`, applied.Int64).Scan(&name)
			return fmt.Errorf("the database is at schema version %d (%s), newer than this ledgerd knows (%d): run the ledgerd that migrated it, or a newer one", applied.Int64, name, newest)
		}
	}
	for _, f := range files {
		version, name := f.version, f.name
		var applied int
		if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&applied); err != nil {
			return err
		}
		if applied > 0 {
			continue
		}
		body, err := migrations.ReadFile(f.path)
		if err != nil {
			return err
		}
		err = s.inWrite(ctx, func() error {
			if _, err := s.write.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			_, err := s.write.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
				version, name, fmtTime(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	// The instance id distinguishes this database's outbox message ids from another's.
	err = s.inWrite(ctx, func() error {
		_, err := s.write.ExecContext(ctx, s.engine.q("newInstance"))
		return err
	})
	if err != nil {
		return err
	}
	if err := s.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'instance'`).Scan(&s.instance); err != nil {
		return err
	}
	// From here on every write transaction takes the cluster's writer lock (cluster.go).
	s.cluster.ready = true
	return nil
}

// inWrite runs fn inside BEGIN IMMEDIATE … COMMIT on the writer; fn uses s.write and s.stmts.
// The caller must not hold writeMu.
func (s *Store) inWrite(ctx context.Context, fn func() error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.inWriteLocked(ctx, fn)
}

func (s *Store) inWriteLocked(ctx context.Context, fn func() error) (err error) {
	if s.writerLost != nil {
		if err := s.reconnectWriter(ctx); err != nil {
			return err
		}
	}
	if _, err := s.write.ExecContext(ctx, s.engine.Begin); err != nil {
		s.checkWriter(err)
		return fmt.Errorf("begin: %w", err)
	}
	// On PostgreSQL the transaction's id is read first: if the connection breaks during COMMIT,
	// the server says afterwards whether it committed (pg_xact_status), so the writer's view of
	// the journal follows what the database holds instead of guessing.
	var xid string
	if s.engine.XactID != "" {
		if err := s.write.QueryRowContext(ctx, s.engine.XactID).Scan(&xid); err != nil {
			s.checkWriter(err)
			_, _ = s.write.ExecContext(context.Background(), "ROLLBACK")
			return fmt.Errorf("begin: %w", err)
		}
	}
	s.afterCommit = s.afterCommit[:0]
	clear(s.pendingCredits)
	s.wroteOutbox = false
	s.resetPendingJournal()
	s.resetStagedPrepaid()
	clear(s.numbers)
	defer func() {
		if err != nil {
			s.resetStagedPrepaid()
			s.discardPipeline()
			if _, rbErr := s.write.ExecContext(context.Background(), "ROLLBACK"); rbErr != nil {
				s.checkWriter(rbErr)
				if s.writerLost == nil {
					err = fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
				}
			}
		}
	}()
	if err := s.fence(ctx); err != nil {
		s.checkWriter(err)
		return err
	}
	if err := fn(); err != nil {
		s.checkWriter(err)
		return err
	}
	if err := s.advanceEpoch(ctx); err != nil {
		s.checkWriter(err)
		return err
	}
	if err := s.recordAuditIn(ctx); err != nil {
		s.checkWriter(err)
		return err
	}
	if err := s.flushPrepaid(ctx); err != nil {
		s.checkWriter(err)
		return err
	}
	if _, err := s.write.ExecContext(ctx, "COMMIT"); err != nil {
		s.checkWriter(err)
		if s.writerLost == nil || xid == "" || !s.committedElsewhere(ctx, xid) {
			return fmt.Errorf("commit: %w", err)
		}
		// The connection broke after the server committed: the transaction stands.
	}
	s.committedEpoch()
	for k, v := range s.journal.pending {
		s.journal.heads[k] = v
	}
	s.journal.next = s.journal.pendingNext
	for _, f := range s.afterCommit {
		f()
	}
	s.commitPrepaid()
	if s.wroteOutbox && s.onOutbox != nil {
		s.onOutbox()
	}
	return nil
}

// WriterReconnectTimeout bounds one attempt to replace a lost writer connection.
const WriterReconnectTimeout = 5 * time.Second

// checkWriter marks the writer connection lost when err came with a broken connection (the
// server restarted, the connection was terminated, the network went away). Only an engine whose
// commits can be looked up afterwards (engine.xactID) replaces its writer.
func (s *Store) checkWriter(err error) {
	if err == nil || s.engine.XactID == "" || s.writerLost != nil {
		return
	}
	if _, decided := errors.AsType[*ledger.Error](err); decided {
		return // a rule refused the operation: the connection is not in question
	}
	ctx, cancel := context.WithTimeout(context.Background(), WriterReconnectTimeout)
	defer cancel()
	if pingErr := s.write.PingContext(ctx); pingErr != nil {
		s.writerLost = fmt.Errorf("the database connection was lost (%v); reconnecting", err)
	}
}

// committedElsewhere asks, on a new connection, whether the transaction xid committed.
func (s *Store) committedElsewhere(ctx context.Context, xid string) bool {
	ctx, cancel := context.WithTimeout(ctx, WriterReconnectTimeout)
	defer cancel()
	var status stdsql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT pg_xact_status(CAST(? AS xid8))`, xid).Scan(&status); err != nil {
		return false
	}
	return status.String == "committed"
}

// reconnectWriter replaces a lost writer connection: a new one, the statements prepared on it
// again. The writer's view of the journal is exact (a commit in doubt was resolved by
// committedElsewhere), so nothing else is reloaded.
func (s *Store) reconnectWriter(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, WriterReconnectTimeout)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return fmt.Errorf("%w: %v", s.writerLost, err)
	}
	for _, st := range s.stmts {
		st.Close()
	}
	s.write.Close()
	s.write, s.stmts = conn, map[string]*stdsql.Stmt{}
	if err := s.prepare(ctx); err != nil {
		return fmt.Errorf("%w: %v", s.writerLost, err)
	}
	s.writerLost = nil
	return nil
}

// onCommit runs f after the transaction in progress commits (not if it rolls back).
func (s *Store) onCommit(f func()) { s.afterCommit = append(s.afterCommit, f) }

// resetPendingJournal forgets what the transaction in progress posted (at its start, and when
// it rolls back to a savepoint taken before posting).
func (s *Store) resetPendingJournal() {
	s.journal.pending = map[int64]int64{}
	s.journal.pendingNext = s.journal.next
	clear(s.ledgerAccounts.pending)
}

// pendingLedgerAccount returns the id of a ledger account the transaction in progress created.
func (s *Store) pendingLedgerAccount(name string) (int64, bool) {
	id, ok := s.ledgerAccounts.pending[name]
	return id, ok
}

func (s *Store) isUniqueViolation(err error) bool { return s.engine.UniqueViolation(err) }

// sharedStatements are the statements both engines run as written (engine.statements holds
// the rest); all are prepared once on the writer.
var sharedStatements = map[string]string{
	"anyParked":           `SELECT EXISTS (SELECT 1 FROM rejected WHERE resolved_at IS NULL)`,
	"insertTransaction":   `INSERT INTO transactions(kind, at, event_count, memo, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id`,
	"insertLedgerAccount": `INSERT INTO ledger_account_names(name, account_id) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`,
	// The pipelined forms (pipeline.go), with ids reserved ahead.
	"insertTransactionWithID":   `INSERT INTO transactions(id, kind, at, event_count, memo, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
	"insertLedgerAccountWithID": `INSERT INTO ledger_account_names(id, name, account_id) VALUES (?, ?, ?)`,
	"setNumber":                 `UPDATE document_numbers SET last = ? WHERE kind = ? AND year = ?`,
	"ledgerAccountID":           `SELECT id FROM ledger_account_names WHERE name = ?`,
	"insertBalance":             `INSERT INTO balances(ledger_account_id) VALUES (?) ON CONFLICT DO NOTHING`,
	"insertRejected": `INSERT INTO rejected(event_key, content_hash, account_id, reason, detail, subject, payload, parked_at, pseudonym)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"reparkRejected": `UPDATE rejected SET reason = ?, detail = ?, replays = replays + 1 WHERE id = ?`,
	// A parked event resolved gives its pseudonym to its charge (R14: held once).
	"resolveRejected": `UPDATE rejected SET resolved_at = ?, resolution = ?, replays = replays + 1, pseudonym = NULL WHERE id = ? AND resolved_at IS NULL`,
	"insertOutbox":    `INSERT INTO outbox(subject, payload, created_at) VALUES (?, ?, ?)`,
	"updateCredit":    `UPDATE accounts SET status = ?, notified_thresholds = ? WHERE id = ?`,
	"insertLot": `INSERT INTO prepaid_lots(id, account_id, ledger_account_id, method, amount_micros, received_at,
		usable_from, expires_at, state, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
	"setZeroSince": `UPDATE accounts SET prepaid_zero_since = ? WHERE id = ?`,
	"setLotState":  `UPDATE prepaid_lots SET state = ?, expired_micros = ? WHERE id = ?`,
	"closeAccount": `UPDATE accounts SET status = 'closed', closed_at = ?, closed_reason = ? WHERE id = ?`,
	"balance":      `SELECT balance_micros FROM balances WHERE ledger_account_id = ?`,
	"nextNumber": `INSERT INTO document_numbers(kind, year, last) VALUES (?, ?, 1)
		ON CONFLICT(kind, year) DO UPDATE SET last = document_numbers.last + 1 RETURNING last`,
	"insertInvoice": `INSERT INTO invoices(id, year, seq, account_id, period, issue_date, due_date, due_now,
		total_micros, document, transaction_id, issued_at, issued_by_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"deleteInvoicedLines": `DELETE FROM usage_lines WHERE account_id = ? AND period <= ?`,
	// Every account's credit as the book keeps it (readCredits); R4: exposure is unbilled usage
	// plus outstanding invoices less the customer's credit. PostgreSQL has its own, faster form.
	"creditRows": `SELECT a.id, a.type, a.status, a.closed_at, a.credit_limit_micros, a.notified_thresholds, a.indexation,
		coalesce((SELECT sum(l.balance_micros) FROM ledger_accounts l WHERE l.name IN
		  ('customer:' || a.id || ':unbilled', 'customer:' || a.id || ':receivable', 'customer:' || a.id || ':credit')), 0)
		FROM accounts a`,
}

func (s *Store) prepare(ctx context.Context) error {
	names := make([]string, 0, len(sharedStatements)+len(s.engine.Statements))
	for name := range sharedStatements {
		names = append(names, name)
	}
	for name := range s.engine.Statements {
		if _, shared := sharedStatements[name]; !shared {
			names = append(names, name)
		}
	}
	if s.engine.ArrayParams {
		for _, name := range []string{"insertEntryArrays", "addBalanceArrays"} {
			if _, ok := s.engine.Statements[name]; !ok {
				return fmt.Errorf("the %s engine takes array parameters but has no statement %s", s.engine.Name, name)
			}
		}
	}
	for _, name := range names {
		st, err := s.write.PrepareContext(ctx, s.engine.q(name))
		if err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
		s.stmts[name] = st
	}
	return nil
}

// TestClock returns the time the test clock was last set to, if it ever was.
func (s *Store) TestClock(ctx context.Context) (time.Time, bool, error) {
	var v string
	err := s.db.GetContext(ctx, &v, `SELECT value FROM meta WHERE key = 'test_clock'`)
	if errors.Is(err, stdsql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the test clock: %w", err)
	}
	t, err := parseTime(v)
	return t, err == nil, err
}

// SaveTestClock records the test clock's time.
func (s *Store) SaveTestClock(ctx context.Context, now time.Time) error {
	return s.inWrite(ctx, func() error {
		// Several instances share the clock (cluster.go): the stored time is replaced only by a
		// later one (fixed-width text orders as time); billing.SetClock words the refusal.
		res, err := s.write.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('test_clock', ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value <= excluded.value`, fmtTime(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return billing.ErrClockAhead
		}
		return nil
	})
}

func (s *Store) loadLedgerAccounts(ctx context.Context) error {
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM entries`).Scan(&s.journal.next); err != nil {
		return fmt.Errorf("read the journal: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, coalesce(last_entry_id, 0) FROM ledger_accounts`)
	if err != nil {
		return fmt.Errorf("read the chart of accounts: %w", err)
	}
	defer rows.Close()
	ids := map[string]int64{}
	s.journal.heads = map[int64]int64{}
	for rows.Next() {
		var id, head int64
		var name string
		if err := rows.Scan(&id, &name, &head); err != nil {
			return err
		}
		ids[name] = id
		if head != 0 {
			s.journal.heads[id] = head
		}
	}
	s.ledgerAccounts.ids = ids
	return rows.Err()
}

// ledgerAccountID returns the id of a committed ledger account (the writer only).
func (s *Store) ledgerAccountID(name string) (int64, bool) {
	id, ok := s.ledgerAccounts.ids[name]
	return id, ok
}

// ensureLedgerAccount returns a ledger account's id, creating the account inside the current
// write transaction if it does not exist; the cache learns it once the transaction commits.
func (s *Store) ensureLedgerAccount(ctx context.Context, name, accountID string) (int64, error) {
	if id, ok := s.ledgerAccountID(name); ok {
		return id, nil
	}
	if id, ok := s.pendingLedgerAccount(name); ok {
		return id, nil
	}
	var customer any
	if accountID != "" {
		customer = accountID
	}
	var id int64
	if s.pipelined() {
		// The writer knows every committed name (ledgerAccounts.ids), so the name is new: it
		// gets a reserved id, and a plain INSERT fails loudly should it not be.
		var err error
		if id, err = s.reserveID(ctx, "ledger_account_names"); err != nil {
			return 0, err
		}
		if err := s.later(ctx, "insertLedgerAccountWithID", id, name, customer); err != nil {
			return 0, fmt.Errorf("ledger account %s: %w", name, err)
		}
	} else {
		if _, err := s.stmts["insertLedgerAccount"].ExecContext(ctx, name, customer); err != nil {
			return 0, fmt.Errorf("ledger account %s: %w", name, err)
		}
		if err := s.stmts["ledgerAccountID"].QueryRowContext(ctx, name).Scan(&id); err != nil {
			return 0, fmt.Errorf("ledger account %s: %w", name, err)
		}
	}
	if err := s.later(ctx, "insertBalance", id); err != nil {
		return 0, fmt.Errorf("ledger account %s: %w", name, err)
	}
	if s.ledgerAccounts.pending == nil {
		s.ledgerAccounts.pending = map[string]int64{}
	}
	s.ledgerAccounts.pending[name] = id
	s.onCommit(func() { s.ledgerAccounts.ids[name] = id })
	return id, nil
}

// postTransaction writes a balanced transaction: its row, its entries (each linked to the
// previous entry of its ledger account) and the balances. Ledger accounts it names that do not
// exist yet are created. It returns the transaction's id. Inside a write transaction only.
func (s *Store) postTransaction(ctx context.Context, tx ledger.Transaction, createdBy string) (int64, error) {
	// Invariant 1, checked before anything is written.
	if err := tx.CheckBalanced(); err != nil {
		return 0, err
	}
	var txID int64
	if s.pipelined() {
		var err error
		if txID, err = s.reserveID(ctx, "transactions"); err != nil {
			return 0, err
		}
		if err := s.later(ctx, "insertTransactionWithID", txID, tx.Kind, fmtTime(tx.At), tx.Events, tx.Memo, createdBy); err != nil {
			return 0, fmt.Errorf("insert transaction: %w", err)
		}
	} else if err := s.stmts["insertTransaction"].QueryRowContext(ctx, tx.Kind, fmtTime(tx.At), tx.Events, tx.Memo, createdBy).Scan(&txID); err != nil {
		return 0, fmt.Errorf("insert transaction: %w", err)
	}
	entries := newEntryColumns(len(tx.Entries))
	seen := make(map[int64]bool, len(tx.Entries))
	for _, e := range tx.Entries {
		la, err := s.ensureLedgerAccount(ctx, e.LedgerAccount, e.AccountID)
		if err != nil {
			return 0, err
		}
		if seen[la] {
			return 0, fmt.Errorf("%s transaction names ledger account %s twice; entries must be aggregated per account", tx.Kind, e.LedgerAccount)
		}
		seen[la] = true
		if s.pipelined() {
			if s.balanceDeltas == nil {
				s.balanceDeltas = map[int64]int64{}
			}
			s.balanceDeltas[la] += int64(e.Amount)
		}
		id := s.journal.pendingNext
		s.journal.pendingNext++
		prev, ok := s.journal.pending[la]
		if !ok {
			prev = s.journal.heads[la]
		}
		s.journal.pending[la] = id
		entries.add(id, la, int64(e.Amount), int64(e.Events), prev)
	}
	if err := s.writeEntries(ctx, txID, entries); err != nil {
		return 0, err
	}
	return txID, nil
}

// entryColumns are a transaction's entries as written, column by column: id, ledger account,
// amount, event count, and the previous entry of the ledger account (0: none).
type entryColumns struct {
	id, account, amount, events, prev []int64
}

func newEntryColumns(n int) entryColumns {
	return entryColumns{make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)}
}

func (c *entryColumns) add(id, account, amount, events, prev int64) {
	c.id, c.account, c.amount = append(c.id, id), append(c.account, account), append(c.amount, amount)
	c.events, c.prev = append(c.events, events), append(c.prev, prev)
}

// writeEntries inserts a transaction's entries and, unless pipelined (endPipeline writes each
// balance once), adds them to the balances: each ledger account appears once per transaction,
// so its entry is its new head. An engine with BulkCopy takes a transaction of copyEntriesMin
// entries or more by COPY (copyEntries), outside a pipeline; an engine with ArrayParams takes
// the others' columns as arrays; the others one BLOB of rows (blobRows): id, account, amount,
// events, prev.
func (s *Store) writeEntries(ctx context.Context, txID int64, c entryColumns) error {
	if s.engine.BulkCopy && len(c.id) >= copyEntriesMin && !s.pipelined() {
		if err := s.copyEntries(ctx, txID, c); err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
		return s.addBalances(ctx, c.id, c.account, c.amount)
	}
	if s.engine.ArrayParams {
		if err := s.later(ctx, "insertEntryArrays", txID, c.id, c.account, c.amount, c.events, c.prev); err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
		if s.pipelined() {
			return nil
		}
		return s.addBalances(ctx, c.id, c.account, c.amount)
	}
	rows := newBlobRows(5, len(c.id), 5*9)
	for i := range c.id {
		rows.int(c.id[i])
		rows.int(c.account[i])
		rows.int(c.amount[i])
		rows.int(c.events[i])
		nullableInt(&rows, c.prev[i])
	}
	if err := s.later(ctx, "insertEntries", txID, rows.bytes()); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	if s.pipelined() {
		return nil
	}
	// The same rows: addBalances reads head, account and amount, the entries' first three columns.
	if err := s.later(ctx, "addBalances", rows.bytes()); err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	return nil
}

// copyEntriesMin is the fewest entries written by COPY (an engine with BulkCopy), rather than
// by one statement over arrays. Measured on PostgreSQL (issue 19): a usage transaction of
// thousands of entries went in faster by binary COPY than by INSERT … SELECT FROM unnest, whose
// five arrays pgx also encoded value by value (the README's benchmark section). A COPY is a
// round trip of its own, not pipelined, so a transaction of a few entries keeps the statement.
const copyEntriesMin = 256

// entryColumnNames are the columns of entries in the order copyEntries writes them.
var entryColumnNames = []string{"id", "transaction_id", "ledger_account_id", "amount_micros", "event_count", "prev_id"}

// copyEntries writes a transaction's entries by COPY, from the writer's own buffer (entryRows).
func (s *Store) copyEntries(ctx context.Context, txID int64, c entryColumns) error {
	rows := copyRowsOver(s.entryRows, len(entryColumnNames), len(c.id), entryRowBytes)
	for i := range c.id {
		rows.row()
		rows.int(c.id[i])
		rows.int(txID)
		rows.int(c.account[i])
		rows.int(c.amount[i])
		rows.int(c.events[i])
		nullableInt(&rows, c.prev[i])
	}
	rows.end()
	s.entryRows = rows
	return s.copyInto(ctx, "entries", entryColumnNames, rows.bytes())
}

// entryRowBytes is the size of an entry's COPY row: a field count and six 8-byte fields with
// their lengths.
const entryRowBytes = 2 + 6*(4+8)

// addBalances adds amounts to ledger accounts' balances, each with its new head entry.
func (s *Store) addBalances(ctx context.Context, heads, accounts, amounts []int64) error {
	var err error
	if s.engine.ArrayParams {
		err = s.later(ctx, "addBalanceArrays", heads, accounts, amounts)
	} else {
		rows := newBlobRows(3, len(heads), 3*9)
		for i := range heads {
			rows.int(heads[i])
			rows.int(accounts[i])
			rows.int(amounts[i])
		}
		err = s.later(ctx, "addBalances", rows.bytes())
	}
	if err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	return nil
}

// copyInto writes rows into table in bulk on the writer's connection, inside its transaction
// (an engine with BulkCopy, whose connection is a BulkCopier).
func (s *Store) copyInto(ctx context.Context, table string, columns []string, data []byte) error {
	return s.write.Raw(func(driverConn any) error {
		c, ok := driverConn.(BulkCopier)
		if !ok {
			return fmt.Errorf("the %s engine copies in bulk but its connection (%T) is no BulkCopier", s.engine.Name, driverConn)
		}
		return c.CopyRows(ctx, table, columns, data)
	})
}

// Checkpointing limits.
const (
	// CheckpointInterval is how often the WAL is copied into the database file.
	CheckpointInterval = time.Second
	// WALTruncateBytes: after a checkpoint that completes, a WAL larger than this is truncated.
	WALTruncateBytes = 64 << 20
)

// RunUpkeep keeps the store in shape until ctx is cancelled: it writes the open invoice lines
// that changed every LinesFlushInterval (and once more on the way out), and on SQLite copies
// the write-ahead log into the database file every CheckpointInterval, on a reader connection
// (PASSIVE checkpoints never block the writer, and commits stay durable: synchronous=FULL syncs
// the WAL itself at every commit). Errors go to log (nil: dropped); each is tried again on the
// next tick.
func (s *Store) RunUpkeep(ctx context.Context, log *slog.Logger) {
	flush := time.NewTicker(LinesFlushInterval)
	defer flush.Stop()
	var checkpoint <-chan time.Time
	if s.engine.Checkpoint != "" { // PostgreSQL checkpoints by itself
		t := time.NewTicker(CheckpointInterval)
		defer t.Stop()
		checkpoint = t.C
	}
	report := func(what string, err error) {
		if err != nil && log != nil {
			log.Error(what, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			report("write the open invoice lines", s.FlushLines(context.Background()))
			return
		case <-flush.C:
			if err := s.FlushLines(ctx); ctx.Err() == nil {
				report("write the open invoice lines", err)
			}
		case <-checkpoint:
			// A busy checkpoint is tried again on the next tick.
			if err := s.Checkpoint(ctx); ctx.Err() == nil {
				report("checkpoint", err)
			}
		}
	}
}

// SetOnOutbox sets what is called after a commit that wrote outgoing events (the relay's wake).
func (s *Store) SetOnOutbox(wake func()) { s.onOutbox = wake }

// Location says where the store is, fit for a log line: its URL with any password redacted.
func (s *Store) Location() string { return Redact(s.url) }

// Checkpoint runs one passive checkpoint.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.engine.Checkpoint == "" {
		return nil // the server checkpoints by itself
	}
	var busy, logFrames, checkpointed int
	if err := s.db.QueryRowContext(ctx, s.engine.Checkpoint).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// writeTx is the write transaction in progress as a use case sees it (billing's ClaimTx,
// ReceivableTx, LotTx, AgreementTx): its reads go through the writer, so they see the
// transaction's own writes.
type writeTx struct {
	s   *Store
	ctx context.Context
}

// exists reports whether query (a SELECT count(*) …) counts anything, on the writer.
func (t writeTx) exists(query string, args ...any) (bool, error) {
	var n int
	err := t.s.write.QueryRowContext(t.ctx, query, args...).Scan(&n)
	return n > 0, err
}

var _ interface {
	billing.ClaimTx
	billing.ReceivableTx
	billing.LotTx
	billing.AgreementTx
} = writeTx{}

// Store keeps every aggregate the use cases need.
var _ billing.Store = (*Store)(nil)
