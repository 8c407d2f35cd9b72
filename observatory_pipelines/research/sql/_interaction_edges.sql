-- Fragment: one network's edges and its nodes' frequencies from the CTEs the query defines
-- before it:
--   occurrences (record_id, node, label, node_type, platform): a node present in a record;
--   links (record_id, source, target): a pair within a record.
-- weight = distinct records containing the pair, frequency = distinct records containing the
-- node (each counted once per record); loops dropped; the edge_limit heaviest edges kept,
-- edges_total = all of them. One statement, two kinds of row (part 'edge', then 'node': the
-- nodes the kept edges touch), so the records' occurrences are unnested once, not once for
-- the edges and again for the nodes. The nodes are picked by a semi-join on the kept edges,
-- never a join of the two aggregates: their row counts cannot be estimated, and a nested
-- loop over them would be quadratic (bulk_session hashes it).
weights AS (
    SELECT k.source, k.target, count(DISTINCT k.record_id)::bigint AS weight
    FROM links AS k
    WHERE k.source <> k.target
    GROUP BY k.source, k.target
),
kept AS (
    SELECT w.source, w.target, w.weight, count(*) OVER ()::bigint AS edges_total
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
    SELECT o.node,
           max(o.label COLLATE "C") AS label,
           max(o.node_type) AS node_type,
           string_agg(DISTINCT o.platform, ' | ' ORDER BY o.platform) AS platforms,
           count(DISTINCT o.record_id)::bigint AS frequency
    FROM occurrences AS o
    WHERE o.node IN (SELECT n.node FROM kept_nodes AS n)
    GROUP BY o.node
)
SELECT *
FROM (
    SELECT 'edge' AS part, k.source, k.target, k.weight, k.edges_total,
           NULL AS label, NULL AS node_type, NULL AS platforms, NULL::bigint AS frequency
    FROM kept AS k
    UNION ALL
    SELECT 'node', f.node, NULL, NULL, NULL, f.label, f.node_type, f.platforms, f.frequency
    FROM frequencies AS f
) AS rows
ORDER BY rows.part, rows.weight DESC, rows.source COLLATE "C", rows.target COLLATE "C"
