-- 0011 account details (CONTRACT 3.1): the buyer's postal address its invoices print (PEPPOL
-- NL-R-004 wants street, city and postal code for a Dutch customer) and its PEPPOL participant id
-- (SCHEME:ID), the invoice's electronic address when its VAT id has none. Empty: unknown.
ALTER TABLE accounts ADD COLUMN street text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN city text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN postal_code text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN peppol_id text NOT NULL DEFAULT '';
