-- The groups a page created or changed: first record, its signature, size.
INSERT INTO enrichment_near_dup_groups AS g (
    group_id, origin_record_id, origin_published_at, origin_signature, size, updated_at
)
SELECT u.group_id, u.origin_record_id, u.origin_published_at, u.origin_signature, u.size, now()
FROM unnest(
    %(group_ids)s::uuid[], %(origin_ids)s::uuid[], %(origin_ats)s::timestamptz[],
    %(origin_signatures)s::bytea[], %(sizes)s::int[]
) AS u (group_id, origin_record_id, origin_published_at, origin_signature, size)
ON CONFLICT (group_id) DO UPDATE SET
    origin_record_id = EXCLUDED.origin_record_id,
    origin_published_at = EXCLUDED.origin_published_at,
    origin_signature = EXCLUDED.origin_signature,
    size = EXCLUDED.size,
    updated_at = EXCLUDED.updated_at
