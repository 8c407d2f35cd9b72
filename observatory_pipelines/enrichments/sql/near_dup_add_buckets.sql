-- Buckets taken over by remaining members of a group after others were pruned.
INSERT INTO enrichment_near_dup_buckets (bucket, record_id, published_at)
SELECT * FROM unnest(%(buckets)s::bigint[], %(record_ids)s::uuid[], %(published_ats)s::timestamptz[])
ON CONFLICT DO NOTHING
