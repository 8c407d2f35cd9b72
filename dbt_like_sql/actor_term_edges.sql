-- Bipartite actor-term network: weight = records of the author that matched the term.
-- Term node ids are 'term:<term>'; top bipartite_edge_limit edges.
-- params: bipartite_edge_limit
-- depends_on: actor_terms, actor_nodes
-- order_by: weight DESC, source, target
SELECT at.author_key AS source,
       'term:' || at.term AS target,
       at.term,
       at.records AS weight,
       n.label AS source_label,
       n.platform AS source_platform,
       n.post_count AS source_post_count
FROM actor_terms AS at
JOIN actor_nodes AS n USING (author_key)
ORDER BY weight DESC, source, target
LIMIT CAST(:bipartite_edge_limit AS integer)
