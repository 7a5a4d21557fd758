-- 0009 notices the NATS server refused for good, set aside with the reason (see sqlite/0009).
CREATE TABLE outbox_failed (
  id         bigint PRIMARY KEY,
  subject    text NOT NULL,
  payload    bytea NOT NULL,
  created_at timestamptz NOT NULL,
  failed_at  timestamptz NOT NULL,
  error      text NOT NULL
);
