-- Kept in step with PostgreSQL's 0012 (several ledgerd on one database). A SQLite file has one
-- ledgerd (its lock file), so nothing reads this table here.
CREATE TABLE cluster_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  INTEGER NOT NULL,
    writer TEXT NOT NULL
);
INSERT INTO cluster_epoch(id, epoch, writer) VALUES (1, 0, '');
