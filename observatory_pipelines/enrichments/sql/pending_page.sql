-- One page of records without a result in the enrichment's marker table, in key order.
-- Keyset paging (id > last): a page enriched leaves the pending set without shifting the next.
SELECT {columns}
FROM content_records AS c
WHERE (%(last_id)s::uuid IS NULL OR c.id > %(last_id)s::uuid)
  AND NOT EXISTS (
      SELECT 1 FROM {marker} AS m
      WHERE m.record_id = c.id AND m.published_at = c.published_at
  )
ORDER BY c.id
LIMIT %(page_size)s
