-- Every member of the given groups (to be rewritten when a new record joins them).
SELECT n.record_id, n.published_at, n.signature, n.cluster_id
FROM enrichment_near_dup AS n
WHERE n.cluster_id = ANY(%(clusters)s::uuid[])
