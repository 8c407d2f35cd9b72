-- Fragment: the edges of one network and the frequencies of its nodes from the CTEs the query defines
-- before it, each counting records already:
--   weights (source, target, weight): ONE row per pair, loops dropped; weight = records
--     containing the pair;
--   node_counts (node, label, node_type, platform, records): records holding the node
--     (several rows of one node summed; label, type and platforms taken over all its rows).
-- weight = records containing the pair, frequency = records containing the node (the 4CAT
-- definition, each record counted once); the edge_limit heaviest edges kept, edges_total =
-- all of them (a count of weights, not a window: a window over every pair stores them all
-- before the first row comes out). The counts arrive as sums, so every aggregate here
-- hashes: no count(DISTINCT record) sorting a row per (record, pair). One statement, two
-- kinds of row (part 'edge', then 'node': the nodes the kept edges touch), the nodes picked
-- by a semi-join on the kept edges, never a join of the two aggregates: their row counts
-- cannot be estimated, and a nested loop over them would be quadratic (bulk_session hashes it).
kept AS (
    SELECT w.source, w.target, w.weight
    FROM weights AS w
    ORDER BY w.weight DESC, w.source COLLATE "C", w.target COLLATE "C"
    LIMIT CAST(:edge_limit AS integer)
),
kept_nodes AS (
    SELECT k.source AS node FROM kept AS k
    UNION
    SELECT k.target FROM kept AS k
),
frequencies AS (
    -- summed per (node, platform) by hashing first, so the ordered platform list is built
    -- from a few rows per node, not from every row of node_counts
    SELECT n.node,
           max(n.label COLLATE "C") AS label,
           max(n.node_type) AS node_type,
           string_agg(n.platform, ' | ' ORDER BY n.platform) AS platforms,
           sum(n.records)::bigint AS frequency
    FROM (
        SELECT c.node, c.platform, max(c.label COLLATE "C") AS label,
               max(c.node_type) AS node_type, sum(c.records) AS records
        FROM node_counts AS c
        WHERE c.node IN (SELECT k.node FROM kept_nodes AS k)
        GROUP BY c.node, c.platform
    ) AS n
    GROUP BY n.node
)
SELECT *
FROM (
    SELECT 'edge' AS part, k.source, k.target, k.weight,
           (SELECT count(*) FROM weights)::bigint AS edges_total,
           NULL AS label, NULL AS node_type, NULL AS platforms, NULL::bigint AS frequency
    FROM kept AS k
    UNION ALL
    SELECT 'node', f.node, NULL, NULL, NULL, f.label, f.node_type, f.platforms, f.frequency
    FROM frequencies AS f
) AS rows
ORDER BY rows.part, rows.weight DESC, rows.source COLLATE "C", rows.target COLLATE "C"
