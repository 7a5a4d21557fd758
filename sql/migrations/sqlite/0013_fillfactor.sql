-- 0013 (on PostgreSQL: room in the pages of the balances, migrations/postgres/0013). SQLite's
-- pages have no such setting; the version is kept in step with PostgreSQL's.
SELECT 1;
