-- Fragment: the weighted edges of one network from the CTEs the query defines before it:
--   occurrences (record_id, node, label, node_type, platform): a node present in a record;
--   links (record_id, source, target): a pair within a record.
-- frequency = distinct records containing the node; weight = distinct records containing the
-- pair (each counted once per record); loops dropped; the edge_limit heaviest edges kept,
-- edges_total = all of them.
frequencies AS (
    SELECT o.node,
           max(o.label COLLATE "C") AS label,
           max(o.node_type) AS node_type,
           string_agg(DISTINCT o.platform, ' | ' ORDER BY o.platform) AS platforms,
           count(DISTINCT o.record_id)::bigint AS frequency
    FROM occurrences AS o
    GROUP BY o.node
),
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
)
SELECT k.source,
       fs.label AS source_label,
       fs.node_type AS source_type,
       fs.platforms AS source_platforms,
       fs.frequency AS source_frequency,
       k.target,
       ft.label AS target_label,
       ft.node_type AS target_type,
       ft.platforms AS target_platforms,
       ft.frequency AS target_frequency,
       k.weight,
       k.edges_total
FROM kept AS k
JOIN frequencies AS fs ON fs.node = k.source
JOIN frequencies AS ft ON ft.node = k.target
ORDER BY k.weight DESC, k.source COLLATE "C", k.target COLLATE "C"
