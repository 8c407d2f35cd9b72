-- Stored records sharing a bucket with the page: per bucket, at most %(tries)s members of
-- each group (the earliest), with their group and signature. Read bucket by bucket from the
-- index: a plain join lets the planner, which cannot estimate the join on (record_id,
-- published_at), hash both whole tables for every page, a cost that grows with everything
-- stored rather than with the page. The caller orders the rows.
SELECT q.bucket, m.record_id, m.published_at, m.group_id, m.signature
FROM unnest(%(buckets)s::bigint[]) AS q (bucket)
CROSS JOIN LATERAL (
    SELECT
        b.record_id, b.published_at, n.group_id, n.signature,
        row_number() OVER (
            PARTITION BY coalesce(n.group_id, b.record_id)
            ORDER BY b.published_at, b.record_id
        ) AS nth
    FROM enrichment_near_dup_buckets AS b
    JOIN enrichment_near_dup AS n
        ON n.record_id = b.record_id AND n.published_at = b.published_at
    WHERE b.bucket = q.bucket
) AS m
WHERE m.nth <= %(tries)s
