-- 0007 liability claims (R12, T&C 8.4). (0006 is another change's.)

-- One row per claim filed, refused or not; the client's id is the idempotency key. What was
-- granted is a credit to the customer (R8: set off against its open invoices), posted by the
-- transaction named here; a claim granted nothing has none.
CREATE TABLE claims (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  account_id     TEXT NOT NULL REFERENCES accounts(id),
  amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0), -- asked
  granted_micros INTEGER NOT NULL CHECK (granted_micros >= 0 AND granted_micros <= amount_micros),
  incident_at    TEXT NOT NULL,
  reason         TEXT NOT NULL,
  transaction_id INTEGER REFERENCES transactions(id),
  created_at     TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  CHECK ((granted_micros > 0) = (transaction_id IS NOT NULL))
);
CREATE INDEX claims_by_account ON claims(account_id, seq);

-- The provider's liability to one customer over the whole agreement, fixed by the first claim
-- filed: its incident opens the 12-month window, and what was paid in it (at most €50,000) is
-- the cap for all claims together, for good — a payment booked later, or a later claim about an
-- earlier incident, does not move it (R12). granted_micros is what all claims were granted
-- (invariant 5: granted ≤ cap ≤ €50,000).
CREATE TABLE liabilities (
  account_id        TEXT PRIMARY KEY REFERENCES accounts(id),
  first_claim_id    TEXT NOT NULL UNIQUE REFERENCES claims(id),
  first_incident_at TEXT NOT NULL,
  paid_12m_micros   INTEGER NOT NULL,
  cap_micros        INTEGER NOT NULL CHECK (cap_micros >= 0 AND cap_micros <= 50000000000),
  granted_micros    INTEGER NOT NULL CHECK (granted_micros >= 0),
  CHECK (cap_micros = max(min(paid_12m_micros, 50000000000), 0)),
  CHECK (granted_micros <= cap_micros)
) WITHOUT ROWID;
