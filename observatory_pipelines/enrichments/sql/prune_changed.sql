-- Results of the taken deleted records (erased through the parent, or deleted otherwise).
-- Also when the record is back (deleted and inserted again): its insertion is logged too, so
-- the same run enriches it anew from what it holds now.
DELETE FROM {table} AS r
USING (
    SELECT DISTINCT k.id, k.published_at
    FROM unnest(%(ids)s::uuid[], %(published_ats)s::timestamptz[]) AS k (id, published_at)
) AS k
WHERE r.record_id = k.id AND r.published_at = k.published_at
