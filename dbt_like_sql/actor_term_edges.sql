-- Bipartite actor-term network: weight = records of the author that matched the term.
-- Term node ids are 'term:<term>'; top bipartite_edge_limit edges. The edges are picked from
-- actor_terms before the author's node is joined (every author of actor_terms has exactly one
-- node: both come from the author facet's rows with an author_key), so the join reads
-- bipartite_edge_limit rows, not all of them.
-- params: bipartite_edge_limit
-- depends_on: actor_terms, actor_nodes
-- order_by: weight DESC, source, target
WITH top AS (
    SELECT at.author_key AS source, 'term:' || at.term AS target, at.term, at.records AS weight
    FROM actor_terms AS at
    ORDER BY weight DESC, source, target
    LIMIT CAST(:bipartite_edge_limit AS integer)
)
SELECT t.source,
       t.target,
       t.term,
       t.weight,
       n.label AS source_label,
       n.platform AS source_platform,
       n.post_count AS source_post_count
FROM top AS t
JOIN actor_nodes AS n ON n.author_key = t.source
