-- The rows of groups a page rewrites (written again, with their new group, by COPY).
DELETE FROM enrichment_near_dup
WHERE cluster_id = ANY(%(clusters)s::uuid[])
