-- The reads a task was billed for (ids only), under today's UTC day and its credential.
INSERT INTO billed_reads (billed_day, credential_id, kind, read_id)
SELECT CAST(%(day)s AS date), CAST(%(credential_id)s AS uuid), kind, read_id
FROM unnest(CAST(%(kinds)s AS text[]), CAST(%(ids)s AS text[])) AS r (kind, read_id)
ON CONFLICT DO NOTHING
