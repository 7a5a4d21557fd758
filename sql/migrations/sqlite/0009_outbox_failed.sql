-- 0009 notices the NATS server refused for good (too big for the stream, a subject no stream
-- takes): moved here with the reason, so that the relay goes on with the notices after them
-- instead of retrying one for ever ahead of all others.
CREATE TABLE outbox_failed (
  id         INTEGER PRIMARY KEY,
  subject    TEXT NOT NULL,
  payload    BLOB NOT NULL,
  created_at TEXT NOT NULL,
  failed_at  TEXT NOT NULL,
  error      TEXT NOT NULL
);
