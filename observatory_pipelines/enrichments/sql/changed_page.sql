-- The taken records still in content_records and without a result in the marker table, in
-- key order. LATERAL ... LIMIT 1 (a primary key: one row at most; the LIMIT keeps the planner
-- from hashing every record): one index probe per key, in its partition only.
SELECT {columns}
FROM (
    SELECT DISTINCT k.id, k.published_at
    FROM unnest(%(ids)s::uuid[], %(published_ats)s::timestamptz[]) AS k (id, published_at)
) AS k
CROSS JOIN LATERAL (
    SELECT * FROM content_records AS r
    WHERE r.id = k.id AND r.published_at = k.published_at
    LIMIT 1
) AS c
WHERE NOT EXISTS (
    SELECT 1 FROM {marker} AS m
    WHERE m.record_id = c.id AND m.published_at = c.published_at
)
ORDER BY c.id
