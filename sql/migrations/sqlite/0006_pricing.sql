-- 0006 pricing depth (R2, R3; T&C 2.7, 3.4; SST 9.1).

-- Customer agreements (T&C 2.7): each PUT /v1/accounts/{id}/prices stores the whole agreed price
-- list as sent (prices.csv form, versioned inside by valid_from) as the account's next version;
-- the newest version is in force. Earlier versions are kept, never changed: what was agreed when.
CREATE TABLE price_agreements (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  version    INTEGER NOT NULL,
  rows       INTEGER NOT NULL,
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (account_id, version)
);

-- A professional-services booking across working time (SST 9.1) is two usage lines: the hours in
-- working time on line_id, the overtime hours on overtime_line_id. amount_micros is both; the
-- overtime part is overtime_micros (and its minutes are rating->>8).
ALTER TABLE charges ADD COLUMN overtime_line_id INTEGER;
ALTER TABLE charges ADD COLUMN overtime_micros INTEGER NOT NULL DEFAULT 0;

