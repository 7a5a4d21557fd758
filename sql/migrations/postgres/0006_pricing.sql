-- 0006 pricing depth (R2, R3; T&C 2.7, 3.4; SST 9.1).

CREATE TABLE price_agreements (
  account_id text NOT NULL REFERENCES accounts(id),
  version    bigint NOT NULL,
  rows       bigint NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (account_id, version)
);

ALTER TABLE charges ADD COLUMN overtime_line_id bigint;
ALTER TABLE charges ADD COLUMN overtime_micros bigint NOT NULL DEFAULT 0;
