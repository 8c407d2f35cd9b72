-- Fragment: one network's edges (part 'edges') or its nodes' frequencies (part 'nodes', for
-- the nodes given) from the CTEs the query defines before it:
--   occurrences (record_id, node, label, node_type, platform): a node present in a record;
--   links (record_id, source, target): a pair within a record.
-- weight = distinct records containing the pair, frequency = distinct records containing the
-- node (each counted once per record); loops dropped; the edge_limit heaviest edges kept,
-- edges_total = all of them. Two parts, not a join of the two aggregates: their row counts
-- cannot be estimated, and a nested loop over them would be quadratic.
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
frequencies AS (
    SELECT o.node,
           max(o.label COLLATE "C") AS label,
           max(o.node_type) AS node_type,
           string_agg(DISTINCT o.platform, ' | ' ORDER BY o.platform) AS platforms,
           count(DISTINCT o.record_id)::bigint AS frequency
    FROM occurrences AS o
    WHERE o.node = ANY (CAST(:nodes AS text[]))
    GROUP BY o.node
)
SELECT k.source, k.target, k.weight, k.edges_total,
       NULL AS label, NULL AS node_type, NULL AS platforms, NULL::bigint AS frequency
FROM kept AS k
WHERE CAST(:part AS text) = 'edges'
UNION ALL
SELECT f.node, NULL, NULL, NULL, f.label, f.node_type, f.platforms, f.frequency
FROM frequencies AS f
WHERE CAST(:part AS text) = 'nodes'
