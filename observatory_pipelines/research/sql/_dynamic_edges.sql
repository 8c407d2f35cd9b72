-- Fragment: one time-sliced network's edges per bucket and, for the nodes they touch, their
-- frequency per bucket, from the CTEs the query defines before it, each counting units (a
-- record, or a term for the actor network) already, every unit once per row set:
--   weights (bucket, source, target, weight): ONE row per pair of a bucket, loops dropped;
--     weight = units of the bucket holding the pair;
--   node_counts (bucket, node, label, node_type, platform, records): units holding the node.
-- weight = units containing the pair in the bucket, frequency = units containing the node
-- there; loops dropped; the edges_per_bucket heaviest edges of each bucket kept (weight,
-- then source, target). Only pairs at or above the weight of the last kept edge of their
-- bucket are ranked: that weight (cutoffs) is read off a count of pairs per (bucket, weight),
-- so the long tail of light pairs is never sorted. One statement, two kinds of row (part
-- 'edge', then 'node'), the nodes picked by a semi-join on the kept edges (see
-- _interaction_edges.sql).
cutoffs AS (
    SELECT h.bucket,
           coalesce(max(h.weight) FILTER (WHERE h.heavier >= CAST(:edges_per_bucket AS integer)),
                    min(h.weight)) AS weight
    FROM (
        SELECT c.bucket, c.weight,
               sum(c.pairs) OVER (PARTITION BY c.bucket ORDER BY c.weight DESC) AS heavier
        FROM (SELECT w.bucket, w.weight, count(*) AS pairs
              FROM weights AS w GROUP BY w.bucket, w.weight) AS c
    ) AS h
    GROUP BY h.bucket
),
ranked AS (
    SELECT w.bucket, w.source, w.target, w.weight,
           row_number() OVER (
               PARTITION BY w.bucket
               ORDER BY w.weight DESC, w.source COLLATE "C", w.target COLLATE "C"
           ) AS rank
    FROM weights AS w
    JOIN cutoffs AS c ON c.bucket = w.bucket AND w.weight >= c.weight
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
frequencies AS (  -- summed per (bucket, node, platform) by hashing first (_interaction_edges.sql)
    SELECT n.bucket, n.node,
           max(n.label COLLATE "C") AS label,
           max(n.node_type) AS node_type,
           string_agg(n.platform, ' | ' ORDER BY n.platform) AS platforms,
           sum(n.records)::bigint AS frequency
    FROM (
        SELECT c.bucket, c.node, c.platform, max(c.label COLLATE "C") AS label,
               max(c.node_type) AS node_type, sum(c.records) AS records
        FROM node_counts AS c
        WHERE c.node IN (SELECT k.node FROM kept_nodes AS k)
        GROUP BY c.bucket, c.node, c.platform
    ) AS n
    GROUP BY n.bucket, n.node
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
