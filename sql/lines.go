package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"ledger/invoices"
	"ledger/ledger"
	"ledger/pricing"
)

// Open usage (R5): usage is aggregated per account, billing period and invoice line as it is
// charged, so that a billing run reads aggregates and never events.
//
// Measured before this was built (1,000,000 events, 10,000 accounts): upserting each batch's
// lines into a keyed table took ingestion from ~107k to ~42k events/s and 3.6 KiB written per
// event. So the writer keeps the totals in memory, merged in as each batch commits, and writes
// the lines that changed only every LinesFlushInterval and before a billing run. Charges name
// their lines, and the flushed table records the charges.seq it includes (meta
// usage_lines_seq): after a crash the totals are the table plus the charges after that seq.

// LinesFlushInterval is how often the open usage lines that changed are written.
const LinesFlushInterval = 30 * time.Second

// lineSpec is what one invoice line groups: the row of line_specs.
type lineSpec struct {
	Kind, Channel, Product, Direction, Country, Description, Unit, UnitPrice string
}

// lineKey is one open line: an account's usage of one line in one period (YYYYMM). The account
// is its number in accountNames, so that neither the key nor the open totals hold a pointer: the
// garbage collector does not follow the hundreds of thousands of open lines a ledger keeps
// (issue 19, measured: 93k → 100k events/s; the README's benchmark section).
type lineKey struct {
	account uint32
	period  int32
	line    uint32
}

// accountNames numbers the accounts of the open lines. Numbers are never reused or forgotten
// (not when the lines are read again), so a key stays valid; there is one per account charged.
type accountNames struct {
	mu    sync.Mutex // a leaf: nothing else is locked while it is held
	index map[string]uint32
	names []string
}

// number returns the account's number, giving it one if it has none.
func (a *accountNames) number(account string) uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.numberLocked(account)
}

// invoiced returns the numbers of the accounts of a batch's invoiced charges, by charge, under
// one lock. A prepaid charge's account (R9) is not numbered: its entry is left unset, and read
// by no one (0 is also the first account's number).
func (a *accountNames) invoiced(charges []ledger.Charge) []uint32 {
	out := make([]uint32, len(charges))
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range charges {
		if !c.Prepaid {
			out[i] = a.numberLocked(c.Event.Account)
		}
	}
	return out
}

func (a *accountNames) numberLocked(account string) uint32 {
	if n, ok := a.index[account]; ok {
		return n
	}
	if a.index == nil {
		a.index = map[string]uint32{}
	}
	a.names = append(a.names, account)
	n := uint32(len(a.names) - 1)
	a.index[account] = n
	return n
}

// lookup returns the account's number, if it has one.
func (a *accountNames) lookup(account string) (uint32, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.index[account]
	return n, ok
}

// all returns the names by number as they are now; later numbers are appended, never written
// over, so the slice stays right for every number it holds.
func (a *accountNames) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.names
}

// lineTotal is what an open line adds up to; dirty: changed since the last flush.
type lineTotal struct {
	quantity, micros, events int64
	dirty                    bool
}

func (t *lineTotal) add(d lineTotal) {
	t.quantity += d.quantity
	t.micros += d.micros
	t.events += d.events
}

// usageLines is the dictionary of line specs (read and grown by planning, beside the writer)
// and the open totals. Committed batches queue their deltas; they are merged into the totals by
// whoever reads them next — the planning of the next batch, or the writer before a flush or a
// billing run — always under openMu.
type usageLines struct {
	mu        sync.Mutex // the dictionary
	ids       map[lineSpec]uint32
	specs     []lineSpec // by id − 1
	persisted int        // specs[:persisted] are in line_specs (writer)

	accounts accountNames // the accounts of lineKey

	openMu sync.Mutex
	queue  []lineDelta // committed, not yet merged
	open   map[lineKey]lineTotal
	dirty  []lineKey // the open lines changed since the last flush, each once
}

// enqueue queues a committed batch's delta (the writer, after commit).
func (u *usageLines) enqueue(d lineDelta) {
	if len(d) == 0 {
		return
	}
	u.openMu.Lock()
	u.queue = append(u.queue, d)
	u.openMu.Unlock()
}

// drain merges what committed batches queued.
func (u *usageLines) drain() {
	u.openMu.Lock()
	u.mergeQueued()
	u.openMu.Unlock()
}

// lock takes the open totals with every committed delta merged in; unlock with openMu.Unlock.
func (u *usageLines) lock() {
	u.openMu.Lock()
	u.mergeQueued()
}

func (u *usageLines) mergeQueued() {
	for i, d := range u.queue {
		for _, c := range d {
			u.add(c.key, c.total)
		}
		u.queue[i] = nil
	}
	u.queue = u.queue[:0]
}

// add adds d to an open line and marks it changed (under openMu).
func (u *usageLines) add(k lineKey, d lineTotal) {
	t := u.open[k]
	t.add(d)
	if !t.dirty {
		t.dirty = true
		u.dirty = append(u.dirty, k)
	}
	u.open[k] = t
}

// lineCache remembers, while one batch is encoded, the line ids and the period bounds it looked
// up: most of a batch's events share a handful of lines and one month.
type lineCache struct {
	ids        map[specKey]chargeLineIDs
	start, end time.Time // the period last looked up
	period     int32
}

// specKey identifies a rated charge's line without formatting its unit price.
type specKey struct {
	channel, product, direction, country, description string
	priceCoefficient                                  int64
	priceExponent                                     int32
	surcharge                                         bool // one surcharge, described by the rest
	surchargeDescription                              string
	surchargeCoefficient                              int64
	surchargeExponent                                 int32
}

func (c *lineCache) periodOf(t time.Time) int32 {
	if c.period == 0 || t.Before(c.start) || !t.Before(c.end) {
		p := invoices.PeriodOf(t)
		c.start, c.end, c.period = p.Start(), p.End(), periodKey(p)
	}
	return c.period
}

func periodKey(p invoices.Period) int32 { return int32(p.Year*100 + int(p.Month)) }

func periodOfKey(k int32) invoices.Period {
	return invoices.Period{Year: int(k / 100), Month: time.Month(k % 100)}
}

// lineID returns the id of a spec, adding it to the dictionary if new.
func (u *usageLines) lineID(spec lineSpec) uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if id, ok := u.ids[spec]; ok {
		return id
	}
	u.specs = append(u.specs, spec)
	id := uint32(len(u.specs))
	u.ids[spec] = id
	return id
}

func (u *usageLines) spec(id uint32) lineSpec {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.specs[id-1]
}

// chargeLineIDs are the lines one charge adds to: its usage line, the overtime line of a
// professional-services booking across working time (SST 9.1), and the line of its surcharges
// together (0 when none).
type chargeLineIDs struct {
	base, overtime, surcharge uint32
}

// chargeLines returns the lines of one charge.
func (u *usageLines) chargeLines(cache *lineCache, e ledger.UsageEvent, r pricing.Rating) chargeLineIDs {
	if len(r.Charges) == 0 {
		return chargeLineIDs{}
	}
	c := r.Charges[0]
	if _, split := r.Overtime(); split || len(r.Charges) > 2 { // the cache holds one usage and one surcharge price
		return u.lookupLines(e, r)
	}
	key := specKey{channel: e.Channel, product: c.Product, direction: e.Direction, country: c.Country, description: c.Description,
		priceCoefficient: c.UnitPrice.CoefficientInt64(), priceExponent: c.UnitPrice.Exponent()}
	if len(r.Charges) == 2 {
		sc := r.Charges[1]
		key.surcharge, key.surchargeDescription = true, sc.Description
		key.surchargeCoefficient, key.surchargeExponent = sc.UnitPrice.CoefficientInt64(), sc.UnitPrice.Exponent()
	}
	if ids, ok := cache.ids[key]; ok {
		return ids
	}
	ids := u.lookupLines(e, r)
	cache.ids[key] = ids
	return ids
}

func (u *usageLines) lookupLines(e ledger.UsageEvent, r pricing.Rating) chargeLineIDs {
	var ids chargeLineIDs
	kind, unit := invoices.UsageLine(e.Channel, e.Product)
	specOf := func(c pricing.Charge) lineSpec {
		return lineSpec{Kind: kind, Channel: e.Channel, Product: c.Product, Direction: e.Direction, Country: c.Country,
			Description: c.Description, Unit: unit, UnitPrice: c.UnitPrice.String()}
	}
	spec := specOf(r.Charges[0])
	ids.base = u.lineID(spec)
	surcharges := r.Charges[1:]
	if overtime, split := r.Overtime(); split {
		ids.overtime = u.lineID(specOf(overtime))
		surcharges = r.Charges[2:]
	}
	if len(surcharges) > 0 {
		descriptions := make([]string, 0, len(surcharges))
		price := surcharges[0].UnitPrice
		for i, s := range surcharges {
			descriptions = append(descriptions, s.Description)
			if i > 0 {
				price = price.Add(s.UnitPrice)
			}
		}
		spec.Kind, spec.Product = invoices.LineSurcharge, e.Product
		spec.Description, spec.UnitPrice = strings.Join(descriptions, " + "), price.String()
		ids.surcharge = u.lineID(spec)
	}
	return ids
}

// lineDelta is what a batch adds to the open lines, charge line by charge line: a list, not a
// map, since a batch's charges rarely share a line (measured: 2,393 lines for 2,206 charges a
// batch, 10,000 accounts) and the merge adds each to its open line anyway.
type lineDelta []lineChange

type lineChange struct {
	key   lineKey
	total lineTotal
}

func (d *lineDelta) add(account uint32, period int32, line uint32, quantity, micros int64) {
	*d = append(*d, lineChange{lineKey{account, period, line}, lineTotal{quantity: quantity, micros: micros, events: 1}})
}

// writeNewSpecs writes the specs planning added since the last commit (inside the transaction
// whose charges name them).
func (s *Store) writeNewSpecs(ctx context.Context) error {
	s.lines.mu.Lock()
	from, specs := s.lines.persisted, append([]lineSpec(nil), s.lines.specs[s.lines.persisted:]...)
	s.lines.mu.Unlock()
	for i, sp := range specs {
		id := from + i + 1
		res, err := s.write.ExecContext(ctx, `INSERT INTO line_specs(id, kind, channel, product, direction, country,
			description, unit, unit_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
			id, sp.Kind, sp.Channel, sp.Product, sp.Direction, sp.Country, sp.Description, sp.Unit, sp.UnitPrice)
		if err != nil {
			return fmt.Errorf("record invoice line %q: %w", sp.Description, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			// Written before by this instance (an earlier transaction that rolled back after a
			// flush committed it); anything else under the id would be another line.
			var had lineSpec
			if err := s.write.QueryRowContext(ctx, `SELECT kind, channel, product, direction, country, description, unit, unit_price
				FROM line_specs WHERE id = ?`, id).Scan(&had.Kind, &had.Channel, &had.Product, &had.Direction, &had.Country,
				&had.Description, &had.Unit, &had.UnitPrice); err != nil {
				return fmt.Errorf("invoice line %d: %w", id, err)
			}
			if had != sp {
				// Read the lines again: the batch, tried again, is planned with the database's.
				s.dropLines()
				return fmt.Errorf("invoice line %d is %q in the database, not %q: this instance's lines were stale (docs/scaling.md)", id, had.Description, sp.Description)
			}
			continue
		}
		// The other instances read the dictionary again before they add to it (cluster.go).
		s.touchLines()
	}
	if len(specs) > 0 {
		n := from + len(specs)
		s.onCommit(func() {
			s.lines.mu.Lock()
			s.lines.persisted = max(s.lines.persisted, n)
			s.lines.mu.Unlock()
		})
	}
	return nil
}

// FlushLines writes the open lines that changed since the last flush.
func (s *Store) FlushLines(ctx context.Context) error {
	return s.inWrite(ctx, func() error { return s.flushLines(ctx) })
}

// flushLines writes the changed open lines and the charges.seq they include, inside the write
// transaction in progress.
func (s *Store) flushLines(ctx context.Context) error {
	// After another instance's write the lines are read first (cluster.go): the table, and the
	// charges after it, which are then written.
	if err := s.ensureLines(ctx); err != nil {
		return err
	}
	if err := s.writeNewSpecs(ctx); err != nil {
		return err
	}
	s.lines.lock()
	defer s.lines.openMu.Unlock()
	if len(s.lines.dirty) == 0 {
		return nil
	}
	flushed := s.lines.dirty
	names := s.lines.accounts.all()
	w := newLinesWriter(s.engine.ArrayParams)
	for _, k := range flushed {
		t, ok := s.lines.open[k]
		if !ok {
			continue // invoiced since
		}
		w.add(names[k.account], k, t)
		if w.n == linesChunk {
			if err := s.writeLines(ctx, w); err != nil {
				return err
			}
		}
	}
	if err := s.writeLines(ctx, w); err != nil {
		return err
	}
	var seq int64
	if err := s.write.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM charges`).Scan(&seq); err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('usage_lines_seq', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(seq, 10)); err != nil {
		return err
	}
	// Nothing merges into the lines inside this transaction, so what was dirty is clean once
	// it commits; should it roll back, the lines are still to be written.
	// Deltas merged after this (by planning) append to dirty behind the flushed keys.
	s.onCommit(func() {
		s.lines.openMu.Lock()
		for _, k := range flushed {
			if t, ok := s.lines.open[k]; ok {
				t.dirty = false
				s.lines.open[k] = t
			}
		}
		s.lines.dirty = append(s.lines.dirty[:0], s.lines.dirty[len(flushed):]...)
		s.lines.openMu.Unlock()
	})
	return nil
}

// linesChunk is how many open lines one statement writes, at most (a variable for a test).
var linesChunk = 5000

// linesWriter holds open lines to write: as integer and text arrays (an engine with
// ArrayParams: upsertUsageLineArrays, PostgreSQL's unnest) or as one BLOB of rows
// (upsertUsageLines, SQLite's ledger_rows), not as JSON, which each engine parsed and cast
// field by field. Measured (issue 19): PostgreSQL's time in the upserts of a 600,000-event
// ledgerbench run 2.44–2.48 s → 2.20–2.26 s; the billing run of 500,000 events on SQLite
// (which writes the lines first) 2.48, 1.72 s → 2.25, 1.56 s. The upsert itself, an index probe
// and an update a line, is most of the cost.
type linesWriter struct {
	arrays                                     bool
	n                                          int
	accounts                                   []string
	periods, lines, quantities, micros, events []int64
	rows                                       blobRows
}

func newLinesWriter(arrays bool) *linesWriter {
	w := &linesWriter{arrays: arrays}
	if !arrays {
		w.rows = newBlobRows(6, linesChunk, 64)
	}
	return w
}

func (w *linesWriter) reset() {
	w.n = 0
	if w.arrays {
		w.accounts, w.periods, w.lines = w.accounts[:0], w.periods[:0], w.lines[:0]
		w.quantities, w.micros, w.events = w.quantities[:0], w.micros[:0], w.events[:0]
		return
	}
	w.rows.reset()
}

func (w *linesWriter) add(account string, k lineKey, t lineTotal) {
	w.n++
	if w.arrays {
		w.accounts = append(w.accounts, account)
		w.periods, w.lines = append(w.periods, int64(k.period)), append(w.lines, int64(k.line))
		w.quantities, w.micros, w.events = append(w.quantities, t.quantity), append(w.micros, t.micros), append(w.events, t.events)
		return
	}
	w.rows.text(account)
	for _, v := range [...]int64{int64(k.period), int64(k.line), t.quantity, t.micros, t.events} {
		w.rows.int(v)
	}
}

// writeLines writes the lines w holds, and empties it.
func (s *Store) writeLines(ctx context.Context, w *linesWriter) error {
	if w.n == 0 {
		return nil
	}
	var err error
	if w.arrays {
		_, err = s.stmts["upsertUsageLineArrays"].ExecContext(ctx, w.accounts, w.periods, w.lines, w.quantities, w.micros, w.events)
	} else {
		_, err = s.stmts["upsertUsageLines"].ExecContext(ctx, w.rows.bytes())
	}
	w.reset()
	if err != nil {
		return fmt.Errorf("write open usage lines: %w", err)
	}
	return nil
}

// loadLines reads the dictionary and the open lines at start: the flushed table, plus the
// charges written after it.
func (s *Store) loadLines(ctx context.Context) error {
	// The planner grows the dictionary beside the writer (lineID), and merges the open lines
	// (lock): both locks are held while they are read (again, after another instance wrote).
	s.lines.openMu.Lock()
	defer s.lines.openMu.Unlock()
	s.lines.mu.Lock()
	s.lines.ids, s.lines.specs, s.lines.persisted = map[lineSpec]uint32{}, nil, 0
	s.lines.open, s.lines.dirty, s.lines.queue = map[lineKey]lineTotal{}, nil, nil
	err := s.loadSpecs(ctx)
	s.lines.mu.Unlock()
	if err != nil {
		return err
	}
	return s.loadOpenLines(ctx)
}

// loadSpecs reads the dictionary of invoice lines (loadLines, under lines.mu).
func (s *Store) loadSpecs(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, channel, product, direction, country, description, unit, unit_price
		FROM line_specs ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read invoice lines: %w", err)
	}
	for rows.Next() {
		var id int
		var sp lineSpec
		if err := rows.Scan(&id, &sp.Kind, &sp.Channel, &sp.Product, &sp.Direction, &sp.Country, &sp.Description, &sp.Unit, &sp.UnitPrice); err != nil {
			rows.Close()
			return err
		}
		if id != len(s.lines.specs)+1 {
			rows.Close()
			return fmt.Errorf("invoice line specs: id %d follows %d", id, len(s.lines.specs))
		}
		s.lines.specs = append(s.lines.specs, sp)
		s.lines.ids[sp] = uint32(id)
	}
	rows.Close()
	s.lines.persisted = len(s.lines.specs)
	return nil
}

// loadOpenLines reads the open lines: the flushed table and the charges after it (loadLines,
// under lines.openMu).
func (s *Store) loadOpenLines(ctx context.Context) error {
	var mark string
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM meta WHERE key = 'usage_lines_seq'), '0')`).Scan(&mark); err != nil {
		return err
	}
	flushedSeq, err := strconv.ParseInt(mark, 10, 64)
	if err != nil {
		return fmt.Errorf("meta usage_lines_seq %q: %w", mark, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, period, line_id, quantity, micros, events FROM usage_lines`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var account string
		var k lineKey
		var t lineTotal
		if err := rows.Scan(&account, &k.period, &k.line, &t.quantity, &t.micros, &t.events); err != nil {
			rows.Close()
			return err
		}
		k.account = s.lines.accounts.number(account)
		s.lines.open[k] = t
	}
	rows.Close()

	// The charges after the flush. Charges from before 0005 name no line: theirs is made from
	// how they were rated, with the unit price left to the amounts.
	rows, err = s.db.QueryContext(ctx, `SELECT c.account_id, c.amount_micros, c.surcharge_micros, c.occurred_at_ns,
		c.rating->>0, c.rating->>1, c.rating->>2, c.rating->>4, c.rating->>6, coalesce(c.line_id, 0), coalesce(c.surcharge_line_id, 0),
		coalesce(c.overtime_line_id, 0), c.overtime_micros, coalesce(c.rating->>8, '0')
		FROM charges c JOIN accounts a ON a.id = c.account_id
		WHERE c.seq > ? AND a.type = 'postpaid' ORDER BY c.seq`, flushedSeq)
	if err != nil {
		return fmt.Errorf("read charges after the open lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var account, channel, product, direction, country string
		var base, surcharge, occurred, billed, overtime, overtimeMinutes int64
		var line, surchargeLine, overtimeLine uint32
		if err := rows.Scan(&account, &base, &surcharge, &occurred, &channel, &product, &direction, &country, &billed, &line, &surchargeLine,
			&overtimeLine, &overtime, &overtimeMinutes); err != nil {
			return err
		}
		period := periodKey(invoices.PeriodOf(time.Unix(0, occurred)))
		described := strings.TrimSpace(strings.ToUpper(channel) + " " + country)
		kind, unit := invoices.UsageLine(channel, product)
		if line == 0 {
			line = s.lines.lineID(lineSpec{Kind: kind, Channel: channel, Product: product, Direction: direction,
				Country: country, Description: described, Unit: unit})
		}
		number := s.lines.accounts.number(account)
		add := func(line uint32, quantity, micros int64) {
			s.lines.add(lineKey{number, period, line}, lineTotal{quantity: quantity, micros: micros, events: 1})
		}
		add(line, billed-overtimeMinutes, base-overtime)
		if overtimeLine != 0 { // SST 9.1: the overtime part of a booking
			add(overtimeLine, overtimeMinutes, overtime)
		}
		if surcharge != 0 {
			if surchargeLine == 0 {
				surchargeLine = s.lines.lineID(lineSpec{Kind: invoices.LineSurcharge, Channel: channel, Product: product, Direction: direction,
					Country: country, Description: "Surcharges " + described, Unit: unit})
			}
			add(surchargeLine, billed, surcharge)
		}
	}
	return rows.Err()
}
