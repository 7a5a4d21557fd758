-- 0014 (on PostgreSQL: event ids compared byte by byte and the rating kept as json text,
-- migrations/postgres/0014). SQLite compares text with its BINARY collation and keeps the
-- rating as text already; the version is kept in step.
SELECT 1;
