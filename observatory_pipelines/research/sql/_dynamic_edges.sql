-- Fragment: one time-sliced network's edges per bucket (part 'edges') or, for the nodes given,
-- their frequency per bucket (part 'nodes'), from the CTEs the query defines before it:
--   occurrences (unit, bucket, node, label, node_type, platform): a node present in a unit
--     (a record) of a bucket;
--   links (unit, bucket, source, target): a pair within a unit (source < target).
-- weight = distinct units containing the pair in the bucket, frequency = distinct units
-- containing the node there; loops dropped; the edges_per_bucket heaviest edges of each
-- bucket kept. Two parts rather than a join of two aggregates (see _interaction_edges.sql).
weights AS (
    SELECT k.bucket, k.source, k.target, count(DISTINCT k.unit)::bigint AS weight
    FROM links AS k
    WHERE k.source <> k.target
    GROUP BY k.bucket, k.source, k.target
),
ranked AS (
    SELECT w.bucket, w.source, w.target, w.weight,
           row_number() OVER (
               PARTITION BY w.bucket
               ORDER BY w.weight DESC, w.source COLLATE "C", w.target COLLATE "C"
           ) AS rank
    FROM weights AS w
),
frequencies AS (
    SELECT o.bucket, o.node,
           max(o.label COLLATE "C") AS label,
           max(o.node_type) AS node_type,
           string_agg(DISTINCT o.platform, ' | ' ORDER BY o.platform) AS platforms,
           count(DISTINCT o.unit)::bigint AS frequency
    FROM occurrences AS o
    WHERE o.node = ANY (CAST(:nodes AS text[]))
    GROUP BY o.bucket, o.node
)
SELECT r.bucket, r.source, r.target, r.weight,
       NULL AS label, NULL AS node_type, NULL AS platforms
FROM ranked AS r
WHERE CAST(:part AS text) = 'edges' AND r.rank <= CAST(:edges_per_bucket AS integer)
UNION ALL
SELECT f.bucket, f.node, NULL, f.frequency, f.label, f.node_type, f.platforms
FROM frequencies AS f
WHERE CAST(:part AS text) = 'nodes'
