-- Stored records moved into a group (or re-scored against a new first record).
UPDATE enrichment_near_dup AS n
SET group_id = u.group_id, jaccard = u.jaccard
FROM unnest(
    %(record_ids)s::uuid[], %(published_ats)s::timestamptz[], %(group_ids)s::uuid[],
    %(jaccards)s::real[]
) AS u (record_id, published_at, group_id, jaccard)
WHERE n.record_id = u.record_id AND n.published_at = u.published_at
