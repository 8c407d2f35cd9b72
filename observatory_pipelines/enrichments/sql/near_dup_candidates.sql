-- Stored records sharing a bucket with the page, with their group and signature.
SELECT b.bucket, b.record_id, b.published_at, n.cluster_id, n.signature
FROM unnest(%(buckets)s::bigint[]) AS q (bucket)
JOIN enrichment_near_dup_buckets AS b ON b.bucket = q.bucket
JOIN enrichment_near_dup AS n
    ON n.record_id = b.record_id AND n.published_at = b.published_at
ORDER BY b.bucket, n.cluster_id, b.published_at, b.record_id
