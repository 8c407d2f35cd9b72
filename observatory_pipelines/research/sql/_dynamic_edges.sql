-- Fragment: one time-sliced network's edges per bucket and, for the nodes they touch, their
-- frequency per bucket, from the CTEs the query defines before it:
--   occurrences (unit, bucket, node, label, node_type, platform): a node present in a unit
--     (a record) of a bucket;
--   links (unit, bucket, source, target): a pair within a unit (source < target).
-- weight = distinct units containing the pair in the bucket, frequency = distinct units
-- containing the node there; loops dropped; the edges_per_bucket heaviest edges of each
-- bucket kept. One statement, two kinds of row (part 'edge', then 'node'), the nodes picked
-- by a semi-join on the kept edges (see _interaction_edges.sql).
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
kept AS (
    SELECT r.bucket, r.source, r.target, r.weight
    FROM ranked AS r
    WHERE r.rank <= CAST(:edges_per_bucket AS integer)
),
kept_nodes AS (
    SELECT k.source AS node FROM kept AS k
    UNION
    SELECT k.target FROM kept AS k
),
frequencies AS (
    SELECT o.bucket, o.node,
           max(o.label COLLATE "C") AS label,
           max(o.node_type) AS node_type,
           string_agg(DISTINCT o.platform, ' | ' ORDER BY o.platform) AS platforms,
           count(DISTINCT o.unit)::bigint AS frequency
    FROM occurrences AS o
    WHERE o.node IN (SELECT n.node FROM kept_nodes AS n)
    GROUP BY o.bucket, o.node
)
SELECT *
FROM (
    SELECT 'edge' AS part, k.bucket, k.source, k.target, k.weight,
           NULL AS label, NULL AS node_type, NULL AS platforms
    FROM kept AS k
    UNION ALL
    SELECT 'node', f.bucket, f.node, NULL, f.frequency, f.label, f.node_type, f.platforms
    FROM frequencies AS f
) AS rows
ORDER BY rows.part, rows.source COLLATE "C", rows.target COLLATE "C", rows.bucket
