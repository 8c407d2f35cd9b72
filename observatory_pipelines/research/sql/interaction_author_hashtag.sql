-- Author–hashtag bipartite network: an author (pseudonym) and a hashtag they used; undirected;
-- weight = the author's records with the tag. Hashtag node ids are "tag:<tag>".
WITH tags AS (
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name, t.tag
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.hashtags) AS t(tag)
    WHERE r.author_key IS NOT NULL
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
