-- Kept in step with PostgreSQL's 0012 (several ledgerd on one database). A SQLite file has one
-- ledgerd (its lock file), so nothing reads this table here.
CREATE TABLE cluster_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  INTEGER NOT NULL,
    writer TEXT NOT NULL,
    -- the epoch of the last write that changed the open invoice lines (charged, or invoiced
    -- them): only then do the other instances read the lines again.
    lines_epoch INTEGER NOT NULL
);
INSERT INTO cluster_epoch(id, epoch, writer, lines_epoch) VALUES (1, 0, '', 0);
