-- Partitions that retention detached (content_records_YYYY_MM_detached, docs/operations/
-- partitions.md) are ordinary tables no longer reached through content_records, but they still
-- hold records (and go into every backup): found by name and shape, never assumed absent.
SELECT c.relname
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
  AND c.relkind = 'r'
  AND NOT c.relispartition
  AND c.relname LIKE 'content\_records\_%'
  AND EXISTS (
      SELECT 1 FROM pg_attribute AS a
      WHERE a.attrelid = c.oid AND a.attname = 'pseudonymized_author_id' AND NOT a.attisdropped
  )
ORDER BY c.relname;
