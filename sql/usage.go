package sql

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
	"ledger/pricing"
)

// encodedBatch is the store's part of a billing.PlannedBatch (its Encoded): the batch's rows
// encoded for the database while the previous batch commits, and what it adds to the open
// invoice lines (lines.go). Planning needs no database: it assumes, as is almost always true,
// that none of the batch's ids was charged or parked before; Commit checks that assumption
// inside the transaction.
type encodedBatch struct {
	rows  encodedRows
	lines lineDelta
	// generation is the writer memory's generation the batch was planned in (cluster.go): a
	// batch planned before a reload is planned again.
	generation uint64
	// store planned it: the lines' accounts are this store's numbers (accountNames).
	store *Store
}

// encoded returns the store's encoding of a planned batch; a batch planned by another store
// is a programming error (its lines would name other accounts).
func (s *Store) encoded(pb *billing.PlannedBatch) *encodedBatch {
	e, ok := pb.Encoded.(*encodedBatch)
	if !ok || e.store != s {
		panic(fmt.Sprintf("sql: batch planned elsewhere (Encoded is %T)", pb.Encoded))
	}
	return e
}

// encodedRows are the batch's charges as rows of ledger_rows (blobRows) or as COPY data
// (copyRows), in the order of chargeColumns (a BLOB row has no transaction id: the statement
// binds it once).
type encodedRows struct {
	charges         []byte
	invalidCallerID map[string]int
	// copy holds the same charges as COPY data (an engine with BulkCopy; charges is then
	// empty), in the columns chargeColumns names: the transaction id of each row is set when
	// the batch is written.
	copy *copyRows
}

// PlanBatch plans a batch as if none of its ids were known to the database. It reads no table,
// so it runs while the previous batch commits.
func (s *Store) PlanBatch(items []ledger.Prepared, at time.Time) (*billing.PlannedBatch, error) {
	// The open invoice lines of committed batches are merged here, beside the writer, rather
	// than in its commit (measured: a third of the commit stage's CPU).
	s.lines.drain()
	return s.planWith(items, ledger.Existing{}, at)
}

func (s *Store) planWith(items []ledger.Prepared, existing ledger.Existing, at time.Time) (*billing.PlannedBatch, error) {
	generation := s.cluster.generation.Load()
	plan, err := ledger.PlanBatch(items, existing, at)
	if err != nil {
		return nil, err
	}
	rows, lines := s.encodePlan(plan)
	return &billing.PlannedBatch{Items: items, At: at, Plan: plan, Encoded: &encodedBatch{rows: rows, lines: lines, generation: generation, store: s}}, nil
}

// ChargeBatch plans and commits one batch (replays use it; ingestion plans ahead and commits).
func (s *Store) ChargeBatch(ctx context.Context, items []ledger.Prepared, at time.Time) (ledger.BatchPlan, error) {
	pb, err := s.PlanBatch(items, at)
	if err != nil {
		return ledger.BatchPlan{}, err
	}
	return s.Commit(ctx, pb)
}

// Commit writes a planned batch in one transaction (CommitGroup of one).
func (s *Store) Commit(ctx context.Context, pb *billing.PlannedBatch) (ledger.BatchPlan, error) {
	if err := s.CommitGroup(ctx, []*billing.PlannedBatch{pb}); err != nil {
		return ledger.BatchPlan{}, err
	}
	return pb.Plan, nil
}

// CommitGroup writes planned batches in one transaction: their charges, one journal transaction
// posting them all (ledger.MergeUsage: one entry per ledger account for the group, not per
// batch), balances, the parked events with their notices in the outbox, then credit control on
// what the group moved. Nothing is acknowledged before this returns without error. Each batch's
// Plan is what was written when it returns.
//
// The ingestion commits the batches that are waiting together when the database is the slower
// stage (group commit): fewer entries, balance updates and COMMITs per event
// (events.Ingestor.GroupBatches).
//
// The plans assumed no id of the batches was charged or parked before. Parked ids are looked up
// first when anything is parked at all; a charged id (or one repeated across the group's
// batches) shows itself when the unique key of charges refuses it, inside a savepoint. Either
// way the batches are then planned again one after the other, each knowing what the database
// holds, the batches before it included, and each posts its own transaction. Exactly once rests
// on that key (R1, invariant 2); the optimism only saves a lookup per event.
func (s *Store) CommitGroup(ctx context.Context, pbs []*billing.PlannedBatch) error {
	if len(pbs) == 0 {
		return nil
	}
	events := 0
	for _, pb := range pbs {
		s.encoded(pb) // planned here, checked before the transaction begins
		events += len(pb.Items)
	}
	err := s.inWrite(ctx, func() error {
		usage, err := s.writeGroup(ctx, pbs)
		if err != nil {
			return err
		}
		return s.evaluateCreditInto(ctx, usage, pbs[len(pbs)-1].At, &s.usageCredits)
	})
	if err != nil {
		if len(pbs) == 1 {
			return fmt.Errorf("charge batch of %d: %w", events, err)
		}
		return fmt.Errorf("charge %d batches of %d events in all: %w", len(pbs), events, err)
	}
	return nil
}

// writeGroup writes the batches as planned when none of their ids can be known to the
// database, and plans them again knowing them otherwise (see CommitGroup). It returns the
// usage the group posted (prepaid settled), for credit control.
func (s *Store) writeGroup(ctx context.Context, pbs []*billing.PlannedBatch) (*ledger.Transaction, error) {
	if err := s.ensureLines(ctx); err != nil {
		return nil, err
	}
	s.touchLines()
	optimistic, err := s.optimistic(ctx, pbs)
	if err != nil {
		return nil, err
	}
	if optimistic {
		if _, err := s.write.ExecContext(ctx, "SAVEPOINT optimistic"); err != nil {
			return nil, err
		}
		hooks := len(s.afterCommit)
		usage, err := s.writePlans(ctx, pbs)
		if err == nil {
			_, err = s.write.ExecContext(ctx, "RELEASE optimistic")
			return usage, err
		}
		if !s.isUniqueViolation(err) {
			return nil, err
		}
		if _, err := s.write.ExecContext(ctx, "ROLLBACK TO optimistic"); err != nil {
			return nil, err
		}
		s.afterCommit = s.afterCommit[:hooks]
		s.resetPendingJournal()
		s.resetStagedPrepaid()
		if _, err := s.write.ExecContext(ctx, "RELEASE optimistic"); err != nil {
			return nil, err
		}
	}
	// Each batch posts its own transaction on this path; credit control sees them together.
	usage := make([]*ledger.Transaction, len(pbs))
	for i, pb := range pbs {
		if err := s.replanAndWrite(ctx, pb, nil); err != nil {
			return nil, err
		}
		usage[i] = pb.Plan.Transaction
	}
	return ledger.MergeUsage(usage), nil
}

// optimistic says whether the batches may be written as planned: planned in the writer
// memory's current generation (a batch planned before another instance's write was read may
// have stale line ids and lots, cluster.go), and naming no parked id.
func (s *Store) optimistic(ctx context.Context, pbs []*billing.PlannedBatch) (bool, error) {
	for _, pb := range pbs {
		if s.encoded(pb).generation != s.cluster.generation.Load() {
			return false, nil
		}
	}
	var anyParked bool
	if err := s.stmts["anyParked"].QueryRowContext(ctx).Scan(&anyParked); err != nil {
		return false, fmt.Errorf("look for parked events: %w", err)
	}
	if !anyParked {
		return true, nil
	}
	for _, pb := range pbs {
		if parked, err := s.lookupParked(ctx, pb.Items); err != nil || len(parked) > 0 {
			return false, err
		}
	}
	return true, nil
}

// replanAndWrite plans the batch again knowing which of its ids were charged or parked before;
// parked is what is already known of the latter (nil: look it up).
func (s *Store) replanAndWrite(ctx context.Context, pb *billing.PlannedBatch, parked map[ledger.ParkKey]int64) error {
	existing := ledger.Existing{Parked: parked}
	var err error
	if existing.Charged, err = s.lookupCharged(ctx, pb.Items); err != nil {
		return err
	}
	if existing.Parked == nil {
		if existing.Parked, err = s.lookupParked(ctx, pb.Items); err != nil {
			return err
		}
	}
	replanned, err := s.planWith(pb.Items, existing, pb.At)
	if err != nil {
		return err
	}
	*pb = *replanned
	_, err = s.writePlans(ctx, []*billing.PlannedBatch{pb})
	return err
}

// idList is the batch's ids as a JSON array, for json_each.
func idList(items []ledger.Prepared) string {
	buf := make([]byte, 0, 32*len(items))
	buf = append(buf, '[')
	n := 0
	for _, p := range items {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, p.Key)
		n++
	}
	return string(append(buf, ']'))
}

// lookupCharged returns the content hashes of the batch's ids that were charged before.
func (s *Store) lookupCharged(ctx context.Context, items []ledger.Prepared) (map[string]uint64, error) {
	charged := map[string]uint64{}
	rows, err := s.stmts["lookupCharged"].QueryContext(ctx, idList(items))
	if err != nil {
		return nil, fmt.Errorf("look up charged ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var hash int64
		if err := rows.Scan(&id, &hash); err != nil {
			return nil, err
		}
		charged[id] = uint64(hash)
	}
	return charged, rows.Err()
}

// lookupParked returns the open parked rows of the batch's ids.
func (s *Store) lookupParked(ctx context.Context, items []ledger.Prepared) (map[ledger.ParkKey]int64, error) {
	parked := map[ledger.ParkKey]int64{}
	rows, err := s.stmts["lookupParked"].QueryContext(ctx, idList(items))
	if err != nil {
		return nil, fmt.Errorf("look up parked ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hash int64
		var key string
		if err := rows.Scan(&id, &key, &hash); err != nil {
			return nil, err
		}
		parked[ledger.ParkKey{Key: key, Hash: uint64(hash)}] = id
	}
	return parked, rows.Err()
}

// writePlans writes planned batches: the group's usage in one journal transaction (with the
// prepaid reclaims before it and draws after it, batch by batch), the charges naming it, and
// each batch's parked events. It returns that transaction (nil when nothing was charged).
func (s *Store) writePlans(ctx context.Context, pbs []*billing.PlannedBatch) (*ledger.Transaction, error) {
	var pre, follow []ledger.Transaction
	usage := make([]*ledger.Transaction, len(pbs))
	for i, pb := range pbs {
		p, f := s.settlePrepaid(pb)
		pre, follow = append(pre, p...), append(follow, f...)
		usage[i] = pb.Plan.Transaction
	}
	tx := ledger.MergeUsage(usage)
	if tx != nil {
		if err := s.postReclaims(ctx, pre); err != nil {
			return nil, err
		}
		txID, err := s.postTransaction(ctx, *tx, "ingest")
		if err != nil {
			return nil, err
		}
		for _, t := range follow {
			if _, err := s.postTransaction(ctx, t, "ingest"); err != nil {
				return nil, err
			}
		}
		if err := s.writeNewSpecs(ctx); err != nil {
			return nil, err
		}
		for _, pb := range pbs {
			if pb.Plan.Transaction != nil {
				if err := s.writeCharges(ctx, pb, txID); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, pb := range pbs {
		if err := s.writeParked(ctx, pb); err != nil {
			return nil, err
		}
	}
	return tx, nil
}

// writeCharges writes a batch's charges, naming the journal transaction that posts them; their
// event ids are unique, so an id charged before makes this fail and the batch is planned again
// (CommitGroup).
func (s *Store) writeCharges(ctx context.Context, pb *billing.PlannedBatch, txID int64) error {
	now := fmtTime(pb.At)
	enc := s.encoded(pb)
	if err := s.insertCharges(ctx, txID, enc.rows); err != nil {
		return fmt.Errorf("insert charges: %w", err)
	}
	s.onCommit(func() { s.lines.enqueue(enc.lines) })
	// SST 6.3: calls without a correct caller ID are counted per account.
	// One statement for the batch's accounts, not one round trip each (a batch of 5,000
	// voice events named ~70 accounts: 15 % of PostgreSQL's commit stage).
	if counts := enc.rows.invalidCallerID; len(counts) > 0 {
		rows := make([]byte, 0, 32*len(counts))
		rows = append(rows, '[')
		for account, n := range counts {
			if len(rows) > 1 {
				rows = append(rows, ',')
			}
			rows = append(rows, '[')
			rows = appendJSONString(rows, account)
			rows = append(rows, ',')
			rows = strconv.AppendInt(rows, int64(n), 10)
			rows = append(rows, ']')
		}
		rows = append(rows, ']')
		if _, err := s.stmts["countInvalidCallerID"].ExecContext(ctx, string(rows)); err != nil {
			return fmt.Errorf("count invalid caller IDs: %w", err)
		}
	}
	for _, c := range pb.Plan.Charges {
		if c.ParkedID != 0 {
			if _, err := s.stmts["resolveRejected"].ExecContext(ctx, now, string(ledger.OutcomeCharged), c.ParkedID); err != nil {
				return fmt.Errorf("resolve parked %d: %w", c.ParkedID, err)
			}
		}
	}
	return nil
}

// writeParked parks what a batch could not charge, with its notices, and settles the parked
// rows it resolved without a charge.
func (s *Store) writeParked(ctx context.Context, pb *billing.PlannedBatch) error {
	plan, at := pb.Plan, pb.At
	now := fmtTime(at)
	for _, p := range plan.Parked {
		if p.ParkedID != 0 {
			if _, err := s.stmts["reparkRejected"].ExecContext(ctx, string(p.Reason), p.Detail, p.ParkedID); err != nil {
				return fmt.Errorf("update parked %d: %w", p.ParkedID, err)
			}
			if p.ParkedReason == string(p.Reason) {
				continue // still parked for the same reason: announced already
			}
		} else if _, err := s.stmts["insertRejected"].ExecContext(ctx, p.Key, int64(p.Hash), p.Event.Account,
			string(p.Reason), p.Detail, p.Subject, p.Data, now, nullableString(p.Pseudonym)); err != nil {
			return fmt.Errorf("park event %q: %w", p.Key, err)
		}
		if err := s.appendOutbox(ctx, ledger.RejectedNotice(p, at), now); err != nil {
			return err
		}
	}
	for _, r := range plan.Resolved {
		if _, err := s.stmts["resolveRejected"].ExecContext(ctx, now, string(r.Outcome), r.ParkedID); err != nil {
			return fmt.Errorf("resolve parked %d: %w", r.ParkedID, err)
		}
	}
	return nil
}

// insertCharges writes the batch's charges: one INSERT … SELECT over the rows (SQLite), or on
// PostgreSQL one COPY (binary rows, no JSON for the server to parse: measured, the INSERT spent
// a third of its time binding the JSON parameter).
func (s *Store) insertCharges(ctx context.Context, txID int64, rows encodedRows) error {
	if rows.copy == nil {
		_, err := s.stmts["insertCharges"].ExecContext(ctx, txID, rows.charges)
		return err
	}
	rows.copy.setTransaction(txID)
	// A group retried reserves again: the values of the failed try are skipped, as a sequence's are.
	n := rows.copy.rows()
	var first int64
	if err := s.write.QueryRowContext(ctx, s.engine.ReserveSeqs, "charges", n).Scan(&first); err != nil {
		return fmt.Errorf("reserve %d charge numbers: %w", n, err)
	}
	rows.copy.setSeqs(first)
	return s.copyInto(ctx, "charges", chargeCopyColumns, rows.copy.bytes())
}

// encodePlan writes the plan's charges as rows, each naming its invoice lines, and adds them
// up per open line.
func (s *Store) encodePlan(plan ledger.BatchPlan) (encodedRows, lineDelta) {
	var out encodedRows
	if plan.Transaction == nil {
		return out, nil
	}
	lines := make(lineDelta, 0, len(plan.Charges)+len(plan.Charges)/4)
	cache := lineCache{ids: make(map[specKey]chargeLineIDs, 16)}
	bulk := s.engine.BulkCopy
	var rows blobRows // not with COPY
	var w rowWriter = &rows
	if bulk {
		copy := newCopyRows(len(chargeCopyColumns), len(plan.Charges), chargeRowBytes)
		copy.jsonb = s.ratingJSONB
		out.copy = &copy
		w = out.copy
	} else {
		rows = newBlobRows(len(chargeColumns)-1, len(plan.Charges), chargeRowBytes) // no transaction id
	}
	rating := make([]byte, 0, 128)
	accounts := s.lines.accounts.invoiced(plan.Charges)
	for i, c := range plan.Charges {
		e := c.Event
		if c.Rating.InvalidCallerID {
			if out.invalidCallerID == nil {
				out.invalidCallerID = map[string]int{}
			}
			out.invalidCallerID[e.Account]++
		}
		// A booking across working time (SST 9.1): its overtime part has a line of its own.
		var overtimeMicros int64
		overtime, split := c.Rating.Overtime()
		if split {
			overtimeMicros = int64(money.MustMicros(overtime.Amount))
		}
		rating = appendRating(rating[:0], c, overtime, split)
		ids := s.lines.chargeLines(&cache, e, c.Rating)
		period := cache.periodOf(e.OccurredAt)
		if !c.Prepaid { // R9: prepaid usage is paid from lots, not invoiced
			account := accounts[i]
			lines.add(account, period, ids.base, c.Rating.BilledQuantity-overtime.Quantity, int64(c.BaseMicros)-overtimeMicros)
			if ids.overtime != 0 {
				lines.add(account, period, ids.overtime, overtime.Quantity, overtimeMicros)
			}
			if c.SurchargeMicros != 0 {
				lines.add(account, period, ids.surcharge, c.Rating.BilledQuantity, int64(c.SurchargeMicros))
			}
		}
		w.row()
		w.text(e.ID)
		w.int(int64(c.Hash))
		w.text(e.Account)
		if bulk {
			out.copy.seqAndTransaction()
		} else {
			w.transaction()
		}
		w.int(int64(c.BaseMicros))
		w.int(int64(c.SurchargeMicros))
		w.int(e.OccurredAt.UnixNano())
		w.json(rating)
		nullableInt(w, int64(ids.base))
		nullableInt(w, int64(ids.surcharge))
		nullableInt(w, int64(ids.overtime))
		w.int(overtimeMicros)
		nullableText(w, c.Pseudonym)
	}
	if bulk {
		out.copy.end()
	} else {
		out.charges = rows.bytes()
	}
	return out, lines
}

// appendRating appends how the charge was rated, the charges.rating column: [channel, product,
// direction, prefix, country, quantity, billed_quantity, invalid_caller_id] and, for a booking
// split across working time, its overtime minutes.
func appendRating(b []byte, c ledger.Charge, overtime pricing.Charge, split bool) []byte {
	e := c.Event
	var prefix, country string
	if len(c.Rating.Charges) > 0 {
		prefix, country = c.Rating.Charges[0].Prefix, c.Rating.Charges[0].Country
	}
	invalid := int64(0)
	if c.Rating.InvalidCallerID {
		invalid = 1
	}
	b = append(b, '[')
	for i, f := range [...]string{e.Channel, e.Product, e.Direction, prefix, country} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f)
	}
	for _, n := range [...]int64{e.Quantity, c.Rating.BilledQuantity, invalid} {
		b = append(b, ',')
		b = strconv.AppendInt(b, n, 10)
	}
	if split {
		b = append(b, ',')
		b = strconv.AppendInt(b, overtime.Quantity, 10)
	}
	return append(b, ']')
}

// chargeRowBytes is a little more than a charge's row, as a BLOB row or as COPY data (an id and
// an account of 10 bytes, the rating's 45–60, a pseudonym; the COPY row, with its seq and 14
// field lengths, about 215): a batch's rows fill the array made for them without growing it.
// At 200 the COPY data of every batch outgrew it once (2.5 against 2.2 KiB allocated per event).
const chargeRowBytes = 240

// chargeColumns are the columns of charges in the order encodePlan writes them.
var chargeColumns = []string{"event_id", "content_hash", "account_id", "transaction_id", "amount_micros",
	"surcharge_micros", "occurred_at_ns", "rating", "line_id", "surcharge_line_id", "overtime_line_id", "overtime_micros", "pseudonym"}

// chargeCopyColumns are chargeColumns as COPY data holds them: each row's seq, numbered by the
// writer (Engine.ReserveSeqs), just before its transaction id (copyRows.seqAndTransaction).
var chargeCopyColumns = slices.Insert(slices.Clone(chargeColumns), slices.Index(chargeColumns, "transaction_id"), "seq")

func nullableString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD (ids are checked
// to be valid UTF-8 before they get here).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
