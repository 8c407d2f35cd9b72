-- Stored records sharing a bucket with the page: per bucket, at most %(tries)s members of
-- each group (the earliest), with their group and signature.
SELECT bucket, record_id, published_at, group_id, signature
FROM (
    SELECT
        b.bucket, b.record_id, b.published_at, n.group_id, n.signature,
        row_number() OVER (
            PARTITION BY b.bucket, coalesce(n.group_id, b.record_id)
            ORDER BY b.published_at, b.record_id
        ) AS nth
    FROM unnest(%(buckets)s::bigint[]) AS q (bucket)
    JOIN enrichment_near_dup_buckets AS b ON b.bucket = q.bucket
    JOIN enrichment_near_dup AS n
        ON n.record_id = b.record_id AND n.published_at = b.published_at
) AS candidate
WHERE nth <= %(tries)s
ORDER BY bucket, published_at, record_id
