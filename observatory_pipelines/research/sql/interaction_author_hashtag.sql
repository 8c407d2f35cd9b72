-- Author–hashtag bipartite network: an author (pseudonym) and a hashtag they used; undirected;
-- weight = the author's records with the tag. Hashtag node ids are "tag:<tag>".
WITH {{ interaction_scoped }},
tags AS (
    SELECT DISTINCT s.record_id, s.platform, s.author_key, s.author_display_name, t.tag
    FROM scoped AS s
    JOIN enrichment_tags AS e ON e.record_id = s.record_id AND e.published_at = s.published_at
    CROSS JOIN LATERAL unnest(e.hashtags) AS t(tag)
    WHERE s.author_key IS NOT NULL
),
occurrences AS (
    SELECT t.record_id, t.author_key AS node, t.author_display_name AS label,
           'actor' AS node_type, t.platform
    FROM tags AS t
    UNION ALL
    SELECT t.record_id, 'tag:' || t.tag, '#' || t.tag, 'hashtag', t.platform
    FROM tags AS t
),
links AS (
    SELECT t.record_id, t.author_key AS source, 'tag:' || t.tag AS target
    FROM tags AS t
),
{{ interaction_edges }}
