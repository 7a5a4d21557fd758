-- 0005 invoices and receivables (R5–R8, R13; T&C 3.2, 3.7–3.11, 10.7).

-- What an invoice line groups (R5: by channel, product and destination country, with its unit
-- price): a dictionary that grows only when a new kind of line appears. Charges name their lines
-- by id, so that the open usage (usage_lines) can be rebuilt from them after a crash.
CREATE TABLE line_specs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  channel     TEXT NOT NULL,
  product     TEXT NOT NULL,
  direction   TEXT NOT NULL,
  country     TEXT NOT NULL,
  description TEXT NOT NULL,
  unit        TEXT NOT NULL,
  unit_price  TEXT NOT NULL -- decimal; '' when unknown (charges from before 0005)
);

ALTER TABLE charges ADD COLUMN line_id INTEGER;
ALTER TABLE charges ADD COLUMN surcharge_line_id INTEGER;

-- Usage charged and not yet invoiced, per account, period (YYYYMM, Amsterdam) and line. The
-- writer keeps these totals in memory as it charges and writes the lines that changed every so
-- often; meta 'usage_lines_seq' is the charges.seq they include. A billing run writes them all
-- first and deletes what it invoices.
CREATE TABLE usage_lines (
  account_id TEXT NOT NULL,
  period     INTEGER NOT NULL,
  line_id    INTEGER NOT NULL,
  quantity   INTEGER NOT NULL, -- billed parts, messages, seconds (voice) or minutes (services)
  micros     INTEGER NOT NULL,
  events     INTEGER NOT NULL,
  PRIMARY KEY (account_id, period, line_id)
) WITHOUT ROWID;

-- One row per period invoiced: a period runs once.
CREATE TABLE billing_runs (
  period      TEXT PRIMARY KEY,
  ran_at      TEXT NOT NULL,
  invoices    INTEGER NOT NULL,
  run_by      TEXT NOT NULL
);

-- The last number given per document kind ('invoice', 'credit_note') and year: numbers are
-- taken in the transaction that issues the document, so they have no gaps.
CREATE TABLE document_numbers (
  kind TEXT NOT NULL,
  year INTEGER NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY (kind, year)
) WITHOUT ROWID;

CREATE TABLE invoices (
  id               TEXT PRIMARY KEY, -- its number, INV-2026-000001
  year             INTEGER NOT NULL,
  seq              INTEGER NOT NULL,
  account_id       TEXT NOT NULL REFERENCES accounts(id),
  period           TEXT NOT NULL,
  issue_date       TEXT NOT NULL,
  due_date         TEXT NOT NULL,   -- as issued
  due_now          TEXT,            -- R13, T&C 10.7: due at once from this date (termination)
  total_micros     INTEGER NOT NULL,
  settled_micros   INTEGER NOT NULL DEFAULT 0 CHECK (settled_micros >= 0), -- payments, set-off, credit notes
  credited_micros  INTEGER NOT NULL DEFAULT 0 CHECK (credited_micros >= 0), -- of which credit notes
  disputed_micros  INTEGER NOT NULL DEFAULT 0 CHECK (disputed_micros >= 0), -- open disputes, with VAT
  overdue_since    TEXT,            -- the date it became overdue (billing.invoice.overdue sent)
  costs_charged    INTEGER NOT NULL DEFAULT 0, -- R6: collection costs put on a later invoice
  interest_micros  INTEGER NOT NULL DEFAULT 0, -- R6: interest put on later invoices so far
  interest_through TEXT,            -- the last day that interest covers
  interest_seen    INTEGER NOT NULL DEFAULT 0, -- the last settlement (id) interest took into account
  document         TEXT NOT NULL,   -- the issued invoice (JSON); never changed
  transaction_id   INTEGER NOT NULL,
  issued_at        TEXT NOT NULL,
  issued_by_run    INTEGER NOT NULL CHECK (issued_by_run IN (0, 1)), -- 0: on termination
  UNIQUE (year, seq),
  -- outstanding = total − settled ≥ 0 (invariant 4)
  CHECK (settled_micros <= max(total_micros, 0))
);
CREATE INDEX invoices_by_account ON invoices(account_id, due_date, id);
CREATE INDEX invoices_by_period ON invoices(period, id);

CREATE TABLE credit_notes (
  id             TEXT PRIMARY KEY, -- CN-2026-000001
  year           INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  account_id     TEXT NOT NULL REFERENCES accounts(id),
  invoice_id     TEXT NOT NULL REFERENCES invoices(id),
  issue_date     TEXT NOT NULL,
  total_micros   INTEGER NOT NULL CHECK (total_micros >= 0),
  document       TEXT NOT NULL,
  transaction_id INTEGER NOT NULL,
  issued_at      TEXT NOT NULL,
  UNIQUE (year, seq)
);
CREATE INDEX credit_notes_by_account ON credit_notes(account_id, id);

CREATE TABLE payments (
  id             TEXT NOT NULL,
  account_id     TEXT NOT NULL REFERENCES accounts(id),
  amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0),
  received_at    TEXT NOT NULL,
  invoice_id     TEXT NOT NULL DEFAULT '',
  sepa           INTEGER NOT NULL CHECK (sepa IN (0, 1)),
  transaction_id INTEGER NOT NULL,
  created_at     TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  PRIMARY KEY (account_id, id)
);

-- What settled an invoice, each its own ledger transaction (R8): a payment, a set-off of the
-- customer's credit (overpayments), a credit note.
CREATE TABLE settlements (
  id             INTEGER PRIMARY KEY,
  invoice_id     TEXT NOT NULL REFERENCES invoices(id),
  kind           TEXT NOT NULL CHECK (kind IN ('payment', 'set_off', 'credit_note')),
  source_id      TEXT NOT NULL,
  amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0),
  on_date        TEXT NOT NULL, -- the date it counts from (interest, R6)
  transaction_id INTEGER NOT NULL
);
CREATE INDEX settlements_by_invoice ON settlements(invoice_id, id);

CREATE TABLE disputes (
  id             TEXT PRIMARY KEY,
  invoice_id     TEXT NOT NULL REFERENCES invoices(id),
  account_id     TEXT NOT NULL,
  amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0), -- of the amount owed (with VAT): not due while open
  reason         TEXT NOT NULL,
  opened_at      TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
  resolved_at    TEXT,
  credit_note_id TEXT
);
CREATE INDEX disputes_by_invoice ON disputes(invoice_id);

ALTER TABLE accounts ADD COLUMN terminated_at TEXT;
