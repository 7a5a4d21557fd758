package sql

import (
	"context"
	"fmt"
)

// The write pipeline (PostgreSQL). A billing run issues thousands of invoices in one
// transaction, each a dozen small writes whose results it does not read back: sent one by one,
// each costs a round trip, and the round trips were the run (10,000 invoices took over a
// minute). While s.pipelining, such writes go through later: queued on the writer connection
// and sent together, in one round trip per PipelineDepth statements, or before anything else
// runs on the connection (a Pipeline: the PostgreSQL adapter's connection). The ids they need are taken from the sequences ahead
// (reserveID) and the document numbers counted in the transaction (nextNumber), so nothing in
// the loop waits for an answer. On SQLite every statement runs at once: it is a function call.

// PipelineDepth bounds the statements queued before they are sent.
const PipelineDepth = 2000

// ReservedIDs is how many ids one round trip takes from a sequence ahead of need.
const ReservedIDs = 1000

// pipelined reports whether writes are queued now.
func (s *Store) pipelined() bool { return s.pipelining && s.engine.ReserveIDs != "" }

// later runs the named statement now, or queues it while pipelined.
func (s *Store) later(ctx context.Context, name string, args ...any) error {
	if !s.pipelined() {
		_, err := s.stmts[name].ExecContext(ctx, args...)
		return err
	}
	return s.laterSQL(ctx, s.engine.q(name), args...)
}

// laterSQL is later for a statement that is not prepared.
func (s *Store) laterSQL(ctx context.Context, query string, args ...any) error {
	if !s.pipelined() {
		_, err := s.write.ExecContext(ctx, query, args...)
		return err
	}
	return s.write.Raw(func(driverConn any) error {
		p, ok := driverConn.(Pipeline)
		if !ok {
			return fmt.Errorf("the %s engine reserves ids but its connection (%T) is no Pipeline", s.engine.Name, driverConn)
		}
		queued, err := p.Enqueue(query, args)
		if err == nil && queued >= PipelineDepth {
			err = p.Send(ctx) // the server runs these while the next are prepared
		}
		return err
	})
}

// reserveID returns an id of table taken from its sequence ahead of need (pipelined only).
// Ids reserved and not used are gaps, as a rolled-back insert leaves: ids order rows, numbers
// without gaps are the documents' (document_numbers).
func (s *Store) reserveID(ctx context.Context, table string) (int64, error) {
	pool := s.reservedIDs[table]
	if len(pool) == 0 {
		rows, err := s.write.QueryContext(ctx, s.engine.ReserveIDs, table, ReservedIDs)
		if err != nil {
			return 0, fmt.Errorf("reserve %s ids: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return 0, err
			}
			pool = append(pool, id)
		}
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if len(pool) == 0 {
			return 0, fmt.Errorf("reserve %s ids: none returned", table)
		}
	}
	if s.reservedIDs == nil {
		s.reservedIDs = map[string][]int64{}
	}
	s.reservedIDs[table] = pool[1:]
	return pool[0], nil
}

// discardPipeline drops what the writer connection holds queued: the transaction is rolled
// back.
func (s *Store) discardPipeline() {
	if s.engine.ReserveIDs == "" {
		return
	}
	_ = s.write.Raw(func(driverConn any) error {
		if p, ok := driverConn.(Pipeline); ok {
			p.Discard()
		}
		return nil
	})
}

// startPipeline queues the writes that follow (PostgreSQL); stopPipeline ends it, after
// endPipeline wrote what was held back, or on the way out of a failed transaction.
func (s *Store) startPipeline() {
	s.pipelining = true
	clear(s.balanceDeltas)
	clear(s.numbersTaken)
}

func (s *Store) stopPipeline() {
	s.pipelining = false
	clear(s.balanceDeltas)
	clear(s.numbersTaken)
}

// endPipeline writes what the pipeline held back — the balances and the document numbers —
// and sends everything queued, so that the transaction's next statement reads it all.
func (s *Store) endPipeline(ctx context.Context) error {
	if !s.pipelined() {
		return nil
	}
	if err := s.writeBalances(ctx); err != nil {
		return err
	}
	for key := range s.numbersTaken {
		if err := s.later(ctx, "setNumber", s.numbers[key], key.kind, key.year); err != nil {
			return err
		}
	}
	clear(s.numbersTaken)
	return s.write.Raw(func(driverConn any) error {
		if p, ok := driverConn.(Pipeline); ok {
			return p.Flush(ctx)
		}
		return nil
	})
}

// writeBalances queues the balances the pipelined transactions changed, each ledger account's
// once, with its newest entry as its head.
func (s *Store) writeBalances(ctx context.Context) error {
	if len(s.balanceDeltas) == 0 {
		return nil
	}
	n := len(s.balanceDeltas)
	heads, accounts, amounts := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	for la, delta := range s.balanceDeltas {
		heads, accounts, amounts = append(heads, s.journal.pending[la]), append(accounts, la), append(amounts, delta)
	}
	clear(s.balanceDeltas)
	return s.addBalances(ctx, heads, accounts, amounts)
}
