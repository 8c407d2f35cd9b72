-- After members were pruned (erased, expired): in the groups they were in (their deleted
-- rows are in pg_temp.pruned_markers), sizes recounted, a vanished first record replaced by
-- the earliest remaining member (and members re-scored against it), groups of one
-- dissolved. Only those groups are read, so the repair follows the deletions, not the index.
CREATE TEMP TABLE repaired_groups ON COMMIT DROP AS
SELECT DISTINCT group_id FROM pg_temp.pruned_markers WHERE group_id IS NOT NULL;

WITH counted AS (
    SELECT r.group_id, count(n.record_id) AS size
    FROM pg_temp.repaired_groups AS r
    LEFT JOIN enrichment_near_dup AS n ON n.group_id = r.group_id
    GROUP BY r.group_id
)
UPDATE enrichment_near_dup_groups AS g SET size = c.size, updated_at = now()
FROM counted AS c
WHERE c.group_id = g.group_id AND c.size <> g.size;

UPDATE enrichment_near_dup_groups AS g
SET origin_record_id = f.record_id, origin_published_at = f.published_at,
    origin_signature = f.signature, updated_at = now()
FROM (
    SELECT DISTINCT ON (n.group_id) n.group_id, n.record_id, n.published_at, n.signature
    FROM pg_temp.repaired_groups AS r
    JOIN enrichment_near_dup_groups AS g ON g.group_id = r.group_id
    JOIN enrichment_near_dup AS n ON n.group_id = g.group_id
    WHERE NOT EXISTS (
        SELECT 1 FROM enrichment_near_dup AS o
        WHERE o.record_id = g.origin_record_id AND o.published_at = g.origin_published_at
    )
    ORDER BY n.group_id, n.published_at, n.record_id::text
) AS f
WHERE f.group_id = g.group_id;

UPDATE enrichment_near_dup AS n
SET jaccard = round((
    SELECT count(*) FROM generate_series(0, 127) AS i
    WHERE substring(n.signature FROM i * 4 + 1 FOR 4)
        = substring(g.origin_signature FROM i * 4 + 1 FOR 4)
) / 128.0, 4)
FROM pg_temp.repaired_groups AS r
JOIN enrichment_near_dup_groups AS g ON g.group_id = r.group_id
WHERE g.group_id = n.group_id AND g.updated_at = now();

UPDATE enrichment_near_dup AS n SET group_id = NULL, jaccard = NULL
FROM pg_temp.repaired_groups AS r
JOIN enrichment_near_dup_groups AS g ON g.group_id = r.group_id
WHERE g.group_id = n.group_id AND g.size < 2;

DELETE FROM enrichment_near_dup_groups AS g
USING pg_temp.repaired_groups AS r
WHERE g.group_id = r.group_id AND g.size < 2;
