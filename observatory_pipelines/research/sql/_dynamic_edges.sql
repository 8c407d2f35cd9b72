-- Fragment: per-bucket nodes and edges of one time-sliced network from the CTEs before it:
--   occurrences (unit, bucket, node, label, node_type, platform): a node present in a unit
--     (a record) of a bucket;
--   links (unit, bucket, source, target): a pair within a unit (source < target).
-- frequency = distinct units containing the node in the bucket, weight = distinct units
-- containing the pair; loops dropped; the edges_per_bucket heaviest edges of each bucket kept
-- and the nodes of kept edges, in every bucket they occur in. One row set: kind 'edge' rows
-- (source, target, weight) and kind 'node' rows (source = the node, weight = its frequency).
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
    JOIN kept_nodes AS n ON n.node = o.node
    GROUP BY o.bucket, o.node
)
SELECT 'edge' AS kind, k.bucket, k.source, k.target, k.weight,
       NULL AS label, NULL AS node_type, NULL AS platforms
FROM kept AS k
UNION ALL
SELECT 'node', f.bucket, f.node, NULL, f.frequency, f.label, f.node_type, f.platforms
FROM frequencies AS f
ORDER BY 1, 2, 3, 4
