-- 0010 personal data (R14): the keyed pseudonym of the destination (see sqlite/0010).
ALTER TABLE charges ADD COLUMN pseudonym text;
ALTER TABLE rejected ADD COLUMN pseudonym text;
