-- The members of the given groups, the earliest first: key, signature, group, and the
-- buckets each holds.
SELECT n.record_id, n.published_at, n.signature, n.group_id,
       array(
           SELECT b.bucket FROM enrichment_near_dup_buckets AS b
           WHERE b.record_id = n.record_id AND b.published_at = n.published_at
       ) AS held
FROM enrichment_near_dup AS n
WHERE n.group_id = ANY(%(groups)s::uuid[])
ORDER BY n.published_at, n.record_id
