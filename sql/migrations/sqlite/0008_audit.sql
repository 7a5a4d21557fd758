-- 0008 the audit trail (CONTRACT 3.10, R14): every write through the API, who made it and how
-- it was answered, written in the transaction of the change it records (refused writes in one
-- of their own). Append-only: the triggers refuse every UPDATE and DELETE, and the store has
-- no statement that would try. It never holds a token (actor is the token's name) or a number
-- in clear (a data-subject request's path is its route, not the number).
CREATE TABLE audit (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  role       TEXT NOT NULL,
  method     TEXT NOT NULL,
  path       TEXT NOT NULL,
  account_id TEXT NOT NULL DEFAULT '',
  status     INTEGER NOT NULL
);
CREATE INDEX audit_by_account ON audit(account_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only (CONTRACT 3.10)'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only (CONTRACT 3.10)'); END;
