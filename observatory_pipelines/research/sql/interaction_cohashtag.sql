-- Co-hashtag network: two hashtags (enrichment_tags, casefolded: #Grønland = #grønland) used in
-- one record; undirected (pair key source < target), no loops; a tag's frequency counts every
-- record holding it, also those with no second tag.
WITH {{ interaction_scoped }},
tags AS (
    SELECT DISTINCT s.record_id, s.platform, t.tag
    FROM scoped AS s
    JOIN enrichment_tags AS e ON e.record_id = s.record_id AND e.published_at = s.published_at
    CROSS JOIN LATERAL unnest(e.hashtags) AS t(tag)
),
occurrences AS (
    SELECT t.record_id, t.tag AS node, '#' || t.tag AS label, 'hashtag' AS node_type, t.platform
    FROM tags AS t
),
links AS (
    SELECT a.record_id, a.tag AS source, b.tag AS target
    FROM tags AS a
    JOIN tags AS b ON b.record_id = a.record_id AND a.tag COLLATE "C" < b.tag COLLATE "C"
),
{{ interaction_edges }}
