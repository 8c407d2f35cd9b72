-- Author–hashtag bipartite network: an author (pseudonym) and a hashtag they used; undirected;
-- weight = the author's records with the tag. Hashtag node ids are "tag:<tag>". A tag
-- repeated in a record counts once (its first position).
WITH resolved AS (
    SELECT r.platform, r.author_key, r.author_display_name,
           'tag:' || t.tag AS target, '#' || t.tag AS target_label, 'hashtag' AS target_type,
           t.n = 1 AS first_target
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.hashtags) WITH ORDINALITY AS t(tag, n)
    WHERE r.author_key IS NOT NULL AND array_position(r.hashtags, t.tag) = t.n
),
{{ interaction_resolved }}
