DROP INDEX IF EXISTS idx_content_pseudonym;
DROP TABLE IF EXISTS erasure_log;
