-- Several ledgerd on one database (docs/scaling.md). Every write transaction takes the cluster's
-- writer lock (pg_advisory_xact_lock) and advances epoch: an instance whose last write is not the
-- one before reloads what its writer keeps in memory before it decides anything. writer names the
-- instance that wrote last.
CREATE TABLE cluster_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  BIGINT NOT NULL,
    writer TEXT NOT NULL,
    -- the epoch of the last write that changed the open invoice lines (charged, or invoiced
    -- them): only then do the other instances read the lines again.
    lines_epoch BIGINT NOT NULL
);
INSERT INTO cluster_epoch(id, epoch, writer, lines_epoch) VALUES (1, 0, '', 0);
