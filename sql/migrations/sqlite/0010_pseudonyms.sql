-- 0010 personal data (R14): a charge and a parked event keep the keyed pseudonym of the
-- destination (HMAC-SHA256 under --pseudonym-key), never the number; the retention job and an
-- erasure request set it to NULL, leaving amounts, prefix and country as they are.
ALTER TABLE charges ADD COLUMN pseudonym TEXT;
ALTER TABLE rejected ADD COLUMN pseudonym TEXT;
