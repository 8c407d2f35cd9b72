-- Every member of the given groups (re-scored or repointed when a page changes the group).
SELECT n.record_id, n.published_at, n.signature, n.group_id
FROM enrichment_near_dup AS n
WHERE n.group_id = ANY(%(groups)s::uuid[])
