package sql_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/money"
	"ledger/sql"
	"ledger/sql/storetest"
)

// smsPrepared is one NL SMS of parts parts (0.075 EUR each) with the given id, prepared as
// ingestion prepares it, not yet charged.
func (f *fixture) smsPrepared(id, account string, parts int) ledger.Prepared {
	body := fmt.Sprintf(`{"id":%q,"account":%q,"channel":"sms","destination":"+31612345678","quantity":%d,"occurred_at":"2026-03-02T10:00:00Z"}`,
		id, account, parts)
	return ledger.Prepare(ledger.Delivery{Subject: "usage.sms." + account, Data: []byte(body)}, f.book, f.tariffs)
}

// malformed is an SMS with a negative quantity, prepared: parked as malformed (R1).
func (f *fixture) malformed(id, account string) ledger.Prepared {
	return f.smsPrepared(id, account, -1)
}

// planAll plans each batch as ingestion does, every one before any commits (the planner runs
// ahead of the database), a second apart.
func (f *fixture) planAll(start time.Time, batches ...[]ledger.Prepared) []*billing.PlannedBatch {
	f.t.Helper()
	var pbs []*billing.PlannedBatch
	for i, items := range batches {
		pb, err := f.store.PlanBatch(items, start.Add(time.Duration(i)*time.Second))
		if err != nil {
			f.t.Fatal(err)
		}
		pbs = append(pbs, pb)
	}
	return pbs
}

// Group commit: batches committed together post one journal transaction, with one entry per
// ledger account for the group; each charge names it; prepaid credit is drawn batch by batch in
// order; parked events are parked; balances, the credit book and the invariants (checked at the
// end) agree with committing the batches one by one.
func TestCommitGroup_one_journal_transaction(t *testing.T) {
	f := newFixture(t)
	f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	f.account("beta", "postpaid", "2026-01-01T00:00:00Z")
	f.account("pre", "prepaid", "2026-01-01T00:00:00Z")
	f.mustTopUp("pre", "t1", "1.00", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z")
	f.runDue("2026-03-02T00:00:00Z")
	f.want("pre", "1", "0", "0")

	pbs := f.planAll(at("2026-03-02T11:00:00Z"),
		[]ledger.Prepared{f.smsPrepared("g-1", "acme", 2), f.smsPrepared("g-2", "beta", 1), f.smsPrepared("g-3", "pre", 10)},
		[]ledger.Prepared{f.smsPrepared("g-4", "acme", 1), f.smsPrepared("g-5", "pre", 10)},
		[]ledger.Prepared{f.smsPrepared("g-6", "beta", 3), f.malformed("bad-1", "acme"), f.smsPrepared("g-7", "nobody", 1)},
	)
	if err := f.store.CommitGroup(f.ctx, pbs); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]ledger.Outcome{
		{ledger.OutcomeCharged, ledger.OutcomeCharged, ledger.OutcomeCharged},
		{ledger.OutcomeCharged, ledger.OutcomeCharged},
		{ledger.OutcomeCharged, ledger.OutcomeRejected, ledger.OutcomeRejected},
	} {
		if got := pbs[i].Plan.Outcomes; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("batch %d: outcomes %v, want %v", i+1, got, want)
		}
	}
	if got := f.balance("customer:acme:unbilled"); got != eur("0.225") {
		t.Errorf("acme unbilled %s, want 0.225 (3 parts)", got.Decimal())
	}
	if got := f.balance("customer:beta:unbilled"); got != eur("0.30") {
		t.Errorf("beta unbilled %s, want 0.30 (4 parts)", got.Decimal())
	}
	// 20 parts of 0.075 = 1.50 against 1.00 usable: the lot pays 0.75 in the first batch and 0.25
	// in the second, which runs 0.50 short (T&C 3.12: charged all the same).
	f.want("pre", "0", "0", "0.50")
	if c, _ := f.book.Get("acme"); c.Exposure != eur("0.225") {
		t.Errorf("the credit book's exposure of acme is %s, want 0.225", c.Exposure.Decimal())
	}

	db, err := storetest.OpenRaw(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var transactions, events int
	if err := db.QueryRow(`SELECT COUNT(DISTINCT c.transaction_id), MAX(t.event_count) FROM charges c JOIN transactions t ON t.id = c.transaction_id`).
		Scan(&transactions, &events); err != nil {
		t.Fatal(err)
	}
	if transactions != 1 || events != 6 {
		t.Errorf("the group's 6 charges name %d journal transactions (of at most %d events); want one of 6", transactions, events)
	}
	var entries int
	if err := db.QueryRow(`SELECT COUNT(*) FROM entries e JOIN ledger_accounts a ON a.id = e.ledger_account_id
		WHERE a.name = 'customer:acme:unbilled'`).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if entries != 1 {
		t.Errorf("acme's unbilled account has %d entries for two batches committed together, want 1", entries)
	}
	var parked int
	if err := db.QueryRow(`SELECT COUNT(*) FROM rejected WHERE resolved_at IS NULL`).Scan(&parked); err != nil {
		t.Fatal(err)
	}
	if parked != 2 {
		t.Errorf("%d events parked, want 2 (malformed, unknown account)", parked)
	}
}

// Exactly once across the batches of a group (R1, invariant 2): an id charged before, an id
// charged in an earlier batch of the group (the same content: a duplicate; other content: parked
// duplicate_conflict) and a parked event that comes again in a later batch are decided as if
// each batch had committed on its own.
func TestCommitGroup_repeats_across_batches(t *testing.T) {
	// The same batches committed as a group, and one by one: the same outcomes, balances and
	// parked rows.
	type result struct {
		outcomes string
		unbilled string
		parked   []string
	}
	run := func(t *testing.T, grouped bool) result {
		f := newFixture(t)
		f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
		if _, err := f.store.ChargeBatch(f.ctx, []ledger.Prepared{f.smsPrepared("before", "acme", 1)}, at("2026-03-02T10:30:00Z")); err != nil {
			t.Fatal(err)
		}
		batches := [][]ledger.Prepared{
			{f.smsPrepared("g-1", "acme", 1), f.malformed("bad-1", "acme")},
			{f.smsPrepared("g-1", "acme", 1), f.smsPrepared("before", "acme", 1), f.smsPrepared("g-2", "acme", 2)},
			{f.smsPrepared("g-1", "acme", 5), f.malformed("bad-1", "acme")},
		}
		var pbs []*billing.PlannedBatch
		if grouped {
			pbs = f.planAll(at("2026-03-02T11:00:00Z"), batches...)
			if err := f.store.CommitGroup(f.ctx, pbs); err != nil {
				t.Fatal(err)
			}
		} else {
			for i, items := range batches {
				pb := f.planAll(at("2026-03-02T11:00:00Z").Add(time.Duration(i)*time.Second), items)[0]
				if err := f.store.CommitGroup(f.ctx, []*billing.PlannedBatch{pb}); err != nil {
					t.Fatal(err)
				}
				pbs = append(pbs, pb)
			}
		}
		var r result
		for _, pb := range pbs {
			r.outcomes += fmt.Sprint(pb.Plan.Outcomes)
		}
		r.unbilled = f.balance("customer:acme:unbilled").Decimal().String()
		if c, _ := f.book.Get("acme"); c.Exposure.Decimal().String() != r.unbilled {
			t.Errorf("the credit book's exposure of acme is %s, the journal's unbilled %s", c.Exposure.Decimal(), r.unbilled)
		}
		db, err := storetest.OpenRaw(f.path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT event_key, reason FROM rejected WHERE resolved_at IS NULL ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var key, reason string
			if err := rows.Scan(&key, &reason); err != nil {
				t.Fatal(err)
			}
			r.parked = append(r.parked, key+" "+reason)
		}
		return r
	}
	grouped, alone := run(t, true), run(t, false)
	if fmt.Sprint(grouped) != fmt.Sprint(alone) {
		t.Errorf("committed as a group: %+v\none by one:            %+v", grouped, alone)
	}
	// And what that is: g-1 charged once (its later copy a duplicate, its other content parked),
	// before a duplicate, the malformed event parked once. 4 parts of 0.075.
	want := result{
		outcomes: "[charged rejected][duplicate duplicate charged][rejected duplicate]",
		unbilled: "0.3",
		parked:   []string{"bad-1 malformed", "g-1 duplicate_conflict"},
	}
	if fmt.Sprint(grouped) != fmt.Sprint(want) {
		t.Errorf("committed as a group: %+v, want %+v", grouped, want)
	}
}

// A batch is committed by the store that planned it: its open lines name accounts by that
// store's numbers, which another store gives to other accounts.
func TestCommitGroup_batch_of_another_store_refused(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	for _, f := range []*fixture{a, b} {
		f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	}
	b.account("beta", "postpaid", "2026-01-01T00:00:00Z")
	b.planAll(at("2026-03-02T10:00:00Z"), []ledger.Prepared{b.smsPrepared("b-1", "beta", 1)}) // beta is b's first number
	pbs := a.planAll(at("2026-03-02T11:00:00Z"), []ledger.Prepared{a.smsPrepared("a-1", "acme", 1)})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "planned elsewhere") {
			t.Fatalf("committing another store's batch: recovered %v, want a panic naming a batch planned elsewhere", r)
		}
	}()
	_ = b.store.CommitGroup(t.Context(), pbs)
}

// The open lines are flushed in chunks (a statement for at most linesChunk lines, its buffer
// used again for the next): every line reaches usage_lines with its totals.
func TestFlushLines_in_chunks(t *testing.T) {
	defer sql.SetLinesChunk(2)()
	f := newFixture(t)
	var batch []ledger.Prepared
	for i, account := range []string{"acme", "beta", "gamma", "delta", "omega"} {
		f.account(account, "postpaid", "2026-01-01T00:00:00Z")
		batch = append(batch, f.smsPrepared("e-"+account, account, i+1))
	}
	if _, err := f.store.ChargeBatch(f.ctx, batch, at("2026-03-02T10:30:00Z")); err != nil {
		t.Fatal(err)
	}
	if err := f.store.FlushLines(f.ctx); err != nil {
		t.Fatal(err)
	}
	db, err := storetest.OpenRaw(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT account_id, quantity, micros, events FROM usage_lines ORDER BY account_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var account string
		var quantity, micros, events int64
		if err := rows.Scan(&account, &quantity, &micros, &events); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %d %d %d", account, quantity, micros, events))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"acme 1 75000 1", "beta 2 150000 1", "delta 4 300000 1", "gamma 3 225000 1", "omega 5 375000 1"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("usage_lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := f.store.CheckInvariants(f.ctx); err != nil {
		t.Error(err)
	}
}

// A usage transaction of more entries than CopyEntriesMin (on PostgreSQL written by COPY, not by
// one statement over arrays) posts each account's entry with its transaction, amount, event
// count and link to the account's previous entry, and moves the balances; twice, so that the
// second entries link to the first. The invariants (checked at close) hold on the chains.
func TestEntries_of_a_large_usage_transaction(t *testing.T) {
	f := newFixture(t)
	n := sql.CopyEntriesMin + 44
	accounts := make([]string, n)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("big-%03d", i)
		f.account(accounts[i], "postpaid", "2026-01-01T00:00:00Z")
	}
	for round := range 2 {
		var items []ledger.Prepared
		for i, a := range accounts {
			items = append(items, f.smsPrepared(fmt.Sprintf("big-%d-%d", round, i), a, 1+i%3))
		}
		pbs := f.planAll(at("2026-03-02T11:00:00Z").Add(time.Duration(round)*time.Hour), items)
		if err := f.store.CommitGroup(f.ctx, pbs); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range accounts {
		want := eur("0.075") * money.Micros(2*(1+i%3))
		if got := f.balance("customer:" + a + ":unbilled"); got != want {
			t.Fatalf("%s unbilled %s, want %s", a, got.Decimal(), want.Decimal())
		}
	}
	entries, err := f.store.Entries(f.ctx, accounts[n-1], at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%s has %d entries, want 2: %+v", accounts[n-1], len(entries), entries)
	}
	for _, e := range entries {
		if e.Amount != eur("0.075")*money.Micros(1+(n-1)%3) || e.Events != 1 || e.Kind != ledger.KindUsage || e.TransactionID == 0 {
			t.Errorf("entry %+v: want a usage entry of 1 event and %s", e, (eur("0.075") * money.Micros(1+(n-1)%3)).Decimal())
		}
	}
	if entries[0].TransactionID == entries[1].TransactionID {
		t.Errorf("both entries name transaction %d, want one per round", entries[0].TransactionID)
	}
}

// A PostgreSQL ledger that migration 0014 left as it was (more than 10 million charges: its
// rating still jsonb, its event ids under the database's collation) charges as before: COPY
// writes the rating as jsonb there, the store says so at start, and the open lines, read back
// from the charges' ratings, come out the same.
func TestCharges_on_a_ledger_that_migration_0014_left_as_it_was(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("migration 0014 changes PostgreSQL's column types only (LEDGER_TEST_POSTGRES runs it)")
	}
	f := newFixture(t)
	if notes := f.store.Notes(); len(notes) != 0 {
		t.Fatalf("a migrated ledger: notes %q, want none", notes)
	}
	f.account("old-1", "postpaid", "2026-01-01T00:00:00Z")
	commit := func(round int) {
		t.Helper()
		var items []ledger.Prepared
		for i := range 3 {
			items = append(items, f.smsPrepared(fmt.Sprintf("old-%d-%d", round, i), "old-1", 1+i))
		}
		if err := f.store.CommitGroup(f.ctx, f.planAll(at("2026-03-02T11:00:00Z").Add(time.Duration(round)*time.Hour), items)); err != nil {
			t.Fatal(err)
		}
	}
	commit(0) // as json
	db, err := storetest.OpenRaw(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`ALTER TABLE charges ALTER COLUMN event_id TYPE text COLLATE "default",
		ALTER COLUMN rating TYPE jsonb USING rating::jsonb`); err != nil {
		t.Fatal(err)
	}
	f.reopen()
	if notes := f.store.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "migration 0014") {
		t.Fatalf("a ledger left as jsonb: notes %q, want one naming migration 0014", notes)
	}
	commit(1)  // as jsonb
	f.reopen() // the open lines again, from the charges' ratings
	if got, want := f.balance("customer:old-1:unbilled"), eur("0.075")*money.Micros(2*(1+2+3)); got != want {
		t.Errorf("unbilled %s, want %s", got.Decimal(), want.Decimal())
	}
	var sms, rows int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE rating->>0 = 'sms'), count(*) FROM charges`).Scan(&sms, &rows); err != nil {
		t.Fatal(err)
	}
	if sms != 6 || rows != 6 {
		t.Errorf("%d charges, %d of them rated as sms; want 6 and 6", rows, sms)
	}
}

// On PostgreSQL a batch's charges carry their seq, numbered by the writer from a run it takes
// from the column's sequence (Engine.ReserveSeqs): in the order the events were planned, batch
// after batch, and ahead of the sequence, so that an insert by the column's default (a ledgerd
// of before, during a rolling upgrade) takes a value after them.
func TestCharge_numbers_reserved_from_the_sequence(t *testing.T) {
	f := newFixture(t)
	f.account("seq-1", "postpaid", "2026-01-01T00:00:00Z")
	var want []string
	for round := range 3 {
		var items []ledger.Prepared
		for i := range 4 + round {
			id := fmt.Sprintf("seq-%d-%d", round, i)
			items = append(items, f.smsPrepared(id, "seq-1", 1))
			want = append(want, id)
		}
		// Two batches in one group: each reserves its own run.
		pbs := f.planAll(at("2026-03-02T11:00:00Z").Add(time.Duration(round)*time.Hour), items[:2], items[2:])
		if err := f.store.CommitGroup(f.ctx, pbs); err != nil {
			t.Fatal(err)
		}
	}
	db, err := storetest.OpenRaw(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT seq, event_id FROM charges ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var last int64
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			t.Fatal(err)
		}
		if seq <= last {
			t.Fatalf("charge %s numbered %d after %d", id, seq, last)
		}
		last = seq
		got = append(got, id)
	}
	rows.Close()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("charges in the order of their seq: %v; want the order they were planned: %v", got, want)
	}
	// As a ledgerd inserting by the column's default would.
	var next int64
	if err := db.QueryRow(`INSERT INTO charges(event_id, content_hash, account_id, transaction_id, amount_micros, surcharge_micros,
		occurred_at_ns, rating) SELECT 'seq-default', 0, 'seq-1', max(transaction_id), 0, 0, 0, '[]' FROM charges RETURNING seq`).Scan(&next); err != nil {
		t.Fatalf("an insert by the default after the writer's: %v", err)
	}
	if next <= last {
		t.Errorf("the default gave %d, not after the writer's last %d", next, last)
	}
	if _, err := db.Exec(`DELETE FROM charges WHERE event_id = 'seq-default'`); err != nil { // the invariants count charges
		t.Fatal(err)
	}
}
