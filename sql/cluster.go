package sql

import (
	"context"
	"database/sql/driver"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"ledger/billing"
)

// Several ledgerd on one PostgreSQL (docs/scaling.md).
//
// The writer keeps the journal's heads, the prepaid lots, the open invoice lines, the credit
// book and the document series in memory, and decides with them inside its transaction. With
// several instances that memory is right only while nobody else writes. So on an engine with a
// cluster (Engine.WriterLock):
//
//   - every write transaction first takes the cluster's writer lock (pg_advisory_xact_lock,
//     released by COMMIT or ROLLBACK, or by the server when the instance's connection dies) and
//     reads cluster_epoch; when the epoch is not the one this instance's last commit left, some
//     other instance wrote since, and the writer's memory is read again from the database before
//     anything is decided (reload). The transaction advances the epoch as it commits. The epoch
//     is the fencing token: an instance that lost the lease and still writes does so only after
//     it has caught up with whatever the new holder wrote, inside the same lock.
//   - the instance holding the leader lease (Lead: a session advisory lock on a connection of
//     its own) ingests and runs the once-only jobs, so the writes are almost all its own and it
//     almost never reloads; the others serve the API, and their few writes (an account, a
//     payment, a billing run) reload once.
//   - Refresh brings an instance's read view (the credit book, the prepaid lots, the agreements,
//     the test clock) up to what the others wrote, without the lock: the API's standing and
//     billing.authorize answer from it.

// NoEpoch says the writer's memory is not known to match any epoch: the next write reloads.
const NoEpoch = -1

// cluster is the store's part in a cluster (guarded by writeMu unless said otherwise).
type cluster struct {
	// epoch is the cluster_epoch the writer's memory matches (NoEpoch: unknown); pendingEpoch is
	// what the transaction in progress advances it to.
	epoch, pendingEpoch int64
	// linesEpoch is the lines_epoch the open lines are as of, once loaded; linesStale: they are
	// not loaded (ensureLines reads them when a write needs them); linesTouched: the transaction
	// in progress changes them.
	linesEpoch, pendingLinesEpoch int64
	linesStale, linesTouched      bool
	// ready: cluster_epoch exists (after the migrations).
	ready bool
	// viewEpoch is the epoch the read view was refreshed at (Refresh).
	viewEpoch int64
	// generation counts reloads; a batch planned under another generation is planned again.
	generation atomic.Uint64
	// name is this instance's name in cluster_epoch.writer (SetInstanceName).
	name string
	// onClock hears the shared test clock's time at every reload and refresh (SetOnClock).
	onClock func(time.Time)
	// known is the newest epoch this instance's memory or view is known to match, read by
	// Refresh without writeMu; reloads and refreshes count what was read again (metrics).
	known, reloads, refreshes atomic.Int64
}

// Clustered reports whether several ledgerd may share this database (PostgreSQL).
func (s *Store) Clustered() bool { return s.engine.WriterLock != "" }

// SetInstanceName names this ledgerd in the database's record of who wrote last.
func (s *Store) SetInstanceName(name string) {
	s.writeMu.Lock()
	s.cluster.name = name
	s.writeMu.Unlock()
}

// SetOnClock sets what hears the test clock's time as another instance set it (the shared
// test clock, POST /v1/clock on any instance).
func (s *Store) SetOnClock(f func(time.Time)) {
	s.writeMu.Lock()
	s.cluster.onClock = f
	s.writeMu.Unlock()
}

// ClusterCounts says how often the writer's memory was read again after another instance's
// write (reloads) and how often the read view was (refreshes).
func (s *Store) ClusterCounts() (reloads, refreshes int64) {
	return s.cluster.reloads.Load(), s.cluster.refreshes.Load()
}

// fence takes the cluster's writer lock for the transaction in progress and, when another
// instance wrote since this one's last commit, reloads the writer's memory (inside the lock, so
// what it reads cannot change under it). Inside inWriteLocked only.
func (s *Store) fence(ctx context.Context) error {
	if !s.Clustered() || !s.cluster.ready {
		return nil
	}
	// Two statements: a statement's snapshot is taken as it starts, before the lock is granted.
	if _, err := s.write.ExecContext(ctx, s.engine.WriterLock); err != nil {
		return fmt.Errorf("take the cluster's writer lock: %w", err)
	}
	var epoch, lines int64
	if err := s.write.QueryRowContext(ctx, `SELECT epoch, lines_epoch FROM cluster_epoch WHERE id = 1`).Scan(&epoch, &lines); err != nil {
		return fmt.Errorf("read cluster_epoch: %w", err)
	}
	s.cluster.linesTouched = false
	if epoch != s.cluster.epoch {
		if err := s.reload(ctx); err != nil {
			return fmt.Errorf("read again what other instances wrote: %w", err)
		}
		s.cluster.epoch = epoch
		s.cluster.reloads.Add(1)
		s.cluster.known.Store(epoch)
	}
	if lines != s.cluster.linesEpoch {
		// Another instance charged or invoiced: the open lines are read again when a write of
		// this instance needs them (ensureLines), not before.
		s.dropLines()
		s.cluster.linesEpoch = lines
	}
	s.cluster.pendingEpoch, s.cluster.pendingLinesEpoch = epoch, lines
	return nil
}

// dropLines forgets the open lines until ensureLines reads them again; a batch planned with
// them is planned again (generation).
func (s *Store) dropLines() {
	s.lines.openMu.Lock()
	s.lines.mu.Lock()
	s.lines.ids, s.lines.specs, s.lines.persisted = map[lineSpec]uint32{}, nil, 0
	s.lines.open, s.lines.dirty, s.lines.queue = map[lineKey]lineTotal{}, nil, nil
	s.lines.mu.Unlock()
	s.lines.openMu.Unlock()
	s.cluster.linesStale = true
	s.cluster.generation.Add(1)
}

// ensureLines reads the open lines if another instance's write left them unread (inside a write
// transaction, under the cluster's lock), before a write that reads or changes them.
func (s *Store) ensureLines(ctx context.Context) error {
	if !s.cluster.linesStale {
		return nil
	}
	if err := s.loadLines(ctx); err != nil {
		return fmt.Errorf("read the open invoice lines again: %w", err)
	}
	s.cluster.linesStale = false
	s.cluster.generation.Add(1)
	return nil
}

// touchLines records that the transaction in progress changes the open lines (it charges, or
// invoices them): the other instances will read them again.
func (s *Store) touchLines() { s.cluster.linesTouched = true }

// advanceEpoch records, in the transaction about to commit, that this instance wrote.
func (s *Store) advanceEpoch(ctx context.Context) error {
	if !s.Clustered() || !s.cluster.ready {
		return nil
	}
	touched := 0
	if s.cluster.linesTouched {
		touched = 1
	}
	return s.write.QueryRowContext(ctx, `UPDATE cluster_epoch SET epoch = epoch + 1, writer = ?,
		lines_epoch = CASE WHEN ? = 1 THEN epoch + 1 ELSE lines_epoch END WHERE id = 1 RETURNING epoch, lines_epoch`,
		s.cluster.name, touched).Scan(&s.cluster.pendingEpoch, &s.cluster.pendingLinesEpoch)
}

// committedEpoch installs the epoch the committed transaction advanced to.
func (s *Store) committedEpoch() {
	if !s.Clustered() || !s.cluster.ready {
		return
	}
	s.cluster.epoch, s.cluster.linesEpoch = s.cluster.pendingEpoch, s.cluster.pendingLinesEpoch
	s.cluster.known.Store(s.cluster.epoch)
}

// reload reads the writer's memory again from the database: the chart of accounts and the
// journal's heads, the prepaid lots and their due steps, the credit book and the agreements,
// and the test clock (the open invoice lines go by lines_epoch: fence). Under writeMu, inside
// the cluster's lock.
func (s *Store) reload(ctx context.Context) error {
	if err := s.loadLedgerAccounts(ctx); err != nil {
		return err
	}
	s.resetPendingJournal()
	if err := s.loadPrepaid(ctx); err != nil {
		return err
	}
	s.resetStagedPrepaid()
	return s.reloadView(ctx)
}

// reloadView reads again what the API answers from: the credit book (with the prepaid lots
// loadPrepaid read), the agreements and the test clock.
func (s *Store) reloadView(ctx context.Context) error {
	if s.credit != nil {
		credits, terms, err := s.readCredits(ctx, s.policy)
		if err != nil {
			return err
		}
		// Every account's terms are read first and put in force in one swap: the planner rates
		// beside this, and must never see an agreed price missing for a moment.
		if t := s.tariffs.Load(); t != nil {
			agreed, err := s.readAgreements(ctx, t)
			if err != nil {
				return err
			}
			maps.Copy(terms, agreed)
		}
		s.installCredits(s.credit, credits, terms)
	}
	if s.cluster.onClock != nil {
		if t, ok, err := s.TestClock(ctx); err != nil {
			return err
		} else if ok {
			s.cluster.onClock(t)
		}
	}
	return nil
}

// Refresh brings the read view up to what other instances wrote, when they wrote anything
// since it last looked: one read of cluster_epoch when nothing changed. What it reads is not
// under the writer lock, so the next write transaction reloads the writer's memory in full.
func (s *Store) Refresh(ctx context.Context) error {
	if !s.Clustered() {
		return nil
	}
	var epoch int64
	if err := s.db.QueryRowContext(ctx, `SELECT epoch FROM cluster_epoch WHERE id = 1`).Scan(&epoch); err != nil {
		return fmt.Errorf("read cluster_epoch: %w", err)
	}
	if epoch == s.cluster.known.Load() {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if epoch == s.cluster.epoch || epoch == s.cluster.viewEpoch {
		return nil
	}
	if err := s.loadPrepaid(ctx); err != nil {
		return err
	}
	if err := s.reloadView(ctx); err != nil {
		return err
	}
	s.cluster.viewEpoch, s.cluster.epoch = epoch, NoEpoch
	s.cluster.known.Store(epoch)
	s.cluster.refreshes.Add(1)
	return nil
}

// LeaseCheckInterval is how often the holder of the leader lease checks it still holds it.
const LeaseCheckInterval = 2 * time.Second

// Lead tries once to take the leader lease: the instance that holds it ingests and runs the
// once-only jobs (billing runs on the clock, the due jobs, the outbox relay, the retention job,
// writing the open lines). On PostgreSQL it is a session advisory lock held on a connection of
// its own; the server releases it when that connection ends, so a killed holder's lease is free
// at once. On SQLite the file's lock already allows one ledgerd: the lease is always granted.
// ok is false when another instance holds it.
func (s *Store) Lead(ctx context.Context) (billing.Lease, bool, error) {
	if !s.Clustered() {
		return billing.Lease{Lost: make(chan struct{}), Release: func() {}}, true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return billing.Lease{}, false, fmt.Errorf("leader lease: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, s.engine.LeaderLock).Scan(&got); err != nil || !got {
		if err != nil {
			// Whether the lock was granted is unknown: the connection is not put back in the
			// pool, where it could hold the lease unseen.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			conn.Close()
			return billing.Lease{}, false, fmt.Errorf("leader lease: %w", err)
		}
		conn.Close()
		return billing.Lease{}, false, nil
	}
	lost, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	// end gives the lease up: unlocked, and the connection closed rather than put back in the
	// pool, where a session still holding the lock (an unlock that failed) would keep every
	// instance from leading for as long as it lived.
	end := func() {
		close(done)
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = conn.ExecContext(c, s.engine.LeaderUnlock)
		cancel()
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}
	release := func() { once.Do(end) }
	go func() {
		t := time.NewTicker(LeaseCheckInterval)
		defer t.Stop()
		failed := 0
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			c, cancel := context.WithTimeout(context.Background(), LeaseCheckInterval)
			var held bool
			err := conn.QueryRowContext(c, s.engine.LeaderHeld).Scan(&held)
			cancel()
			switch {
			case err == nil && held:
				failed = 0
				continue
			case err != nil && failed == 0:
				// One slow answer (a busy server) is asked again before the lease is given up.
				failed++
				continue
			}
			close(lost)
			once.Do(end)
			return
		}
	}()
	return billing.Lease{Lost: lost, Release: release}, true, nil
}

// lockMigrations keeps two instances starting at once on a new database from migrating it
// together; the returned function releases it.
func (s *Store) lockMigrations(ctx context.Context) (func(), error) {
	if s.engine.MigrateLock == "" {
		return func() {}, nil
	}
	if _, err := s.write.ExecContext(ctx, s.engine.MigrateLock); err != nil {
		return nil, fmt.Errorf("wait for another ledgerd migrating the database: %w", err)
	}
	return func() { _, _ = s.write.ExecContext(context.Background(), s.engine.MigrateUnlock) }, nil
}
