-- Author–hashtag bipartite network: an author (pseudonym) and a hashtag they used; undirected;
-- weight = the author's records with the tag. Hashtag node ids are "tag:<tag>".
WITH resolved AS (
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name,
           'tag:' || t.tag AS target, '#' || t.tag AS target_label, 'hashtag' AS target_type
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.hashtags) AS t(tag)
    WHERE r.author_key IS NOT NULL
),
{{ interaction_resolved }}
