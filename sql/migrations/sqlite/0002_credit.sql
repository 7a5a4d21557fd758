-- 0002 credit control (R4, T&C 3.5, 3.6): which threshold notices are out for each account, and
-- every change of a credit limit with who made it and when.

ALTER TABLE accounts ADD COLUMN notified_thresholds TEXT NOT NULL DEFAULT '';

CREATE TABLE credit_limit_changes (
  id          INTEGER PRIMARY KEY,
  account_id  TEXT NOT NULL REFERENCES accounts(id),
  old_micros  INTEGER NOT NULL,
  new_micros  INTEGER NOT NULL CHECK (new_micros >= 0),
  at          TEXT NOT NULL,
  changed_by  TEXT NOT NULL
);
CREATE INDEX credit_limit_changes_by_account ON credit_limit_changes(account_id, id);
