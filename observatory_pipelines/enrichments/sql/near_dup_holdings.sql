-- The buckets the members of the given groups hold: bucket, member, group.
SELECT b.bucket, b.record_id, b.published_at, n.group_id
FROM enrichment_near_dup AS n
JOIN enrichment_near_dup_buckets AS b
    ON b.record_id = n.record_id AND b.published_at = n.published_at
WHERE n.group_id = ANY(%(groups)s::uuid[])
