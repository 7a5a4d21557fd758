-- 0013 room in the pages of the balances (issue 19). Every usage transaction updates the balance
-- of each ledger account it posts to, thousands of rows a transaction. With pages filled to the
-- brim, an update must first prune its page, or move the row to another page and index it
-- again; with half of each page free, the new version stays on its page and touches no index (a
-- HOT update). Measured on 10,003 balances, 6,300 of them updated by one statement (as
-- addBalanceArrays does): 33–40 ms a statement with full pages, 20–25 ms at 50 %. The table is
-- one short row per ledger account, so the room costs little. It applies to the pages written
-- from now on.
ALTER TABLE balances SET (fillfactor = 50);
