-- The stored groups a page's records reached.
SELECT group_id, origin_record_id, origin_published_at, origin_signature, size
FROM enrichment_near_dup_groups
WHERE group_id = ANY(%(groups)s::uuid[])
