-- The partitions of content_records now (retention and maintenance change them without
-- firing the parent's statement triggers).
SELECT coalesce(array_agg(i.inhrelid ORDER BY i.inhrelid), '{}')
FROM pg_inherits AS i
WHERE i.inhparent = 'content_records'::regclass
