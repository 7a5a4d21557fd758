-- 0014 what a charge costs PostgreSQL to take in (issue 19). Every usage event is one charges
-- row; measured by the backend's own CPU while COPY took 1,000,000 rows in transactions of
-- 40,000 (2026-12-07): 7.4–8.0 µs a row before, 5.5–6.0 after both changes below.
--  * event_id COLLATE "C": an event id is an opaque key. Its unique index (invariant 2: each
--    event charged once) needs equality and some order, not a language's; with the database's
--    collation (C.UTF-8, en_US.UTF-8, …) each comparison went through the C library's strcoll,
--    with "C" it is memcmp, the order SQLite's BINARY collation gives the same column. 0.5–0.6
--    µs a row. The values stay; the index is built again.
--  * rating json, not jsonb: the rating is written once, with every charge, and read back only
--    by the few queries that take fields out of it (->>, which json has too). jsonb parsed and
--    rebuilt it into its binary form on every insert; json checks it and keeps the text.
--    1.4–1.5 µs a row.
-- Changing rating's type rewrites the table (3.4 s per million charges on the team's 2-core
-- machine, measured) and rebuilding the index takes its lock for as long. A ledger of more than
-- 10 million charges is left as it is, so that no start of ledgerd stalls on it: the store
-- writes the rating as jsonb while the column is jsonb, ledgerd says so when it starts, and
-- the README (Choosing a store, Migrations) gives the statements to run in a maintenance window.
DO $$
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM charges LIMIT 10000001) AS c) <= 10000000 THEN
    ALTER TABLE charges
      ALTER COLUMN event_id TYPE text COLLATE "C",
      ALTER COLUMN rating TYPE json USING rating::json;
  ELSE
    RAISE NOTICE 'charges: more than 10 million rows; event_id and rating left as they are (migration 0014: the README gives the statements for a maintenance window)';
  END IF;
END $$;
