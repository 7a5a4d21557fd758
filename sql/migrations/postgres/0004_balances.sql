-- 0004 balances apart from names (see migrations/sqlite/0004 for why); the view ledger_accounts
-- joins them for every reader.

ALTER TABLE ledger_accounts RENAME TO ledger_account_names;

CREATE TABLE balances (
  ledger_account_id bigint PRIMARY KEY REFERENCES ledger_account_names(id),
  balance_micros    bigint NOT NULL DEFAULT 0,
  last_entry_id     bigint
);
INSERT INTO balances(ledger_account_id, balance_micros, last_entry_id)
  SELECT id, balance_micros, last_entry_id FROM ledger_account_names;

ALTER TABLE ledger_account_names DROP COLUMN balance_micros;
ALTER TABLE ledger_account_names DROP COLUMN last_entry_id;

CREATE VIEW ledger_accounts AS
  SELECT n.id, n.name, n.account_id, b.balance_micros, b.last_entry_id
  FROM ledger_account_names n JOIN balances b ON b.ledger_account_id = n.id;
