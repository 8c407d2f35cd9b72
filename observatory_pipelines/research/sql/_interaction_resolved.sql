-- Fragment: occurrences and links of an author → target network (directed, or bipartite)
-- from the CTE "resolved" (record_id, platform, author_key, author_display_name, target,
-- target_label, target_type), then its edges or nodes (_interaction_edges.sql).
occurrences AS (
    SELECT r.record_id, r.author_key AS node, r.author_display_name AS label,
           'actor' AS node_type, r.platform
    FROM resolved AS r
    UNION ALL
    SELECT r.record_id, r.target, r.target_label, r.target_type, r.platform
    FROM resolved AS r
),
links AS (
    SELECT r.record_id, r.author_key AS source, r.target
    FROM resolved AS r
),
{{ interaction_edges }}
