-- 0004 balances apart from names. Every usage batch updates the balance of thousands of ledger
-- accounts; with the balance in the row beside the account's name, each update dirtied a page
-- holding ~60 accounts, and with a ledger account per prepaid lot the batch wrote nearly the
-- whole chart into the WAL. The balances now live in a narrow table (~250 a page) and the names
-- in their own; the view ledger_accounts joins them for every reader, as before.
-- (RENAME keeps the foreign keys of entries and prepaid_lots pointing at the names.)

ALTER TABLE ledger_accounts RENAME TO ledger_account_names;

CREATE TABLE balances (
  ledger_account_id INTEGER PRIMARY KEY REFERENCES ledger_account_names(id),
  balance_micros    INTEGER NOT NULL DEFAULT 0,
  last_entry_id     INTEGER -- the newest entry on this account: the head of its chain
);
INSERT INTO balances(ledger_account_id, balance_micros, last_entry_id)
  SELECT id, balance_micros, last_entry_id FROM ledger_account_names;

ALTER TABLE ledger_account_names DROP COLUMN balance_micros;
ALTER TABLE ledger_account_names DROP COLUMN last_entry_id;

CREATE VIEW ledger_accounts AS
  SELECT n.id, n.name, n.account_id, b.balance_micros, b.last_entry_id
  FROM ledger_account_names n JOIN balances b ON b.ledger_account_id = n.id;
