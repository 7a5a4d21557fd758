-- 0003 prepaid credit (R9–R11, T&C 3.12–3.15): top-up lots, chargebacks, and what closure needs.
-- A lot's remaining credit is the balance of its own ledger account (customer:<id>:lot:<topup>),
-- so it is never stored twice; the lot row keeps what the journal alone does not say.

CREATE TABLE prepaid_lots (
  seq                 INTEGER PRIMARY KEY,
  id                  TEXT NOT NULL UNIQUE, -- the client's top-up id (idempotency key)
  account_id          TEXT NOT NULL REFERENCES accounts(id),
  ledger_account_id   INTEGER NOT NULL REFERENCES ledger_accounts(id),
  method              TEXT NOT NULL CHECK (method IN ('card', 'bank')),
  amount_micros       INTEGER NOT NULL CHECK (amount_micros > 0),
  received_at         TEXT NOT NULL,
  usable_from         TEXT NOT NULL,
  expires_at          TEXT NOT NULL,
  state               TEXT NOT NULL CHECK (state IN ('pending', 'usable', 'expired')),
  -- what chargebacks set off against this lot (R10; what they reversed of this top-up is the
  -- sum of its rows in chargebacks)
  charged_back_micros INTEGER NOT NULL DEFAULT 0 CHECK (charged_back_micros >= 0),
  expired_micros      INTEGER NOT NULL DEFAULT 0 CHECK (expired_micros >= 0),
  created_at          TEXT NOT NULL,
  created_by          TEXT NOT NULL
);
CREATE INDEX prepaid_lots_by_account ON prepaid_lots(account_id, seq);

CREATE TABLE chargebacks (
  seq              INTEGER PRIMARY KEY,
  id               TEXT NOT NULL UNIQUE,
  account_id       TEXT NOT NULL REFERENCES accounts(id),
  topup_id         TEXT NOT NULL REFERENCES prepaid_lots(id),
  amount_micros    INTEGER NOT NULL CHECK (amount_micros > 0),
  set_off_micros   INTEGER NOT NULL CHECK (set_off_micros >= 0),
  owed_micros      INTEGER NOT NULL CHECK (owed_micros >= 0),
  at               TEXT NOT NULL,
  transaction_id   INTEGER NOT NULL REFERENCES transactions(id),
  closed           INTEGER NOT NULL CHECK (closed IN (0, 1)),
  created_at       TEXT NOT NULL,
  created_by       TEXT NOT NULL
);
CREATE INDEX chargebacks_by_account ON chargebacks(account_id, seq);
CREATE INDEX chargebacks_by_topup ON chargebacks(topup_id);

ALTER TABLE accounts ADD COLUMN closed_at TEXT;
ALTER TABLE accounts ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';
-- T&C 3.15: when the usable and pending balance last reached zero after a top-up.
ALTER TABLE accounts ADD COLUMN prepaid_zero_since TEXT;
