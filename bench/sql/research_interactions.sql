-- What the interaction networks and the dynamic GEXF read, for the research benchmark's
-- records (bench/analysis.py's fill: platform_id = 'p' || g, author_platform_id = 'u' ||
-- (g % 20000), platform = bluesky/reddit/rss_feeds/gdelt/youtube by g % 5):
-- enrichment_tags as record_tags would store them (0-3 of 300 hashtags a record, a skewed
-- draw; 1 in 4 social records mentions an author, on Bluesky by DID), and the references
-- the reply and quote networks follow: 1 in 3 Bluesky posts replies to the Bluesky post 35
-- records before (its DID one of ours), 1 in 3 quotes it; every other Reddit record answers
-- the Reddit post 5 before it (t3_, stored, so the parent resolves).
INSERT INTO enrichment_tags (record_id, published_at, hashtags, mentions, mention_ids,
                             subreddit_refs, method, method_version, computed_at)
SELECT c.id, c.published_at,
       ARRAY(SELECT DISTINCT 'tag' || floor(300 * power(((x.g * k * 7919) % 100003) / 100003.0, 2))
             FROM generate_series(1, x.g % 4) AS k),
       CASE WHEN x.g % 4 = 0 AND c.arena = 'social_media'
            THEN ARRAY['u' || ((x.g * 31) % 20000)] ELSE '{}' END,
       CASE WHEN x.g % 4 = 0 AND c.platform = 'bluesky'
            THEN ARRAY['u' || ((x.g * 31) % 20000)] ELSE '{}' END,
       '{}', 'record_tags', 'bench', now()
FROM content_records AS c
CROSS JOIN LATERAL (SELECT substring(c.platform_id FROM 2)::bigint AS g) AS x;

UPDATE content_records AS c
SET raw_metadata = c.raw_metadata || CASE
        WHEN c.platform = 'bluesky' AND x.g % 3 = 0 THEN jsonb_build_object('reply',
            jsonb_build_object('parent', jsonb_build_object('uri',
                'at://u' || ((x.g - 35) % 20000) || '/app.bsky.feed.post/p' || (x.g - 35))))
        WHEN c.platform = 'bluesky' AND x.g % 3 = 1 THEN jsonb_build_object('embed',
            jsonb_build_object('$type', 'app.bsky.embed.record#view', 'record',
                jsonb_build_object('uri',
                    'at://u' || ((x.g - 35) % 20000) || '/app.bsky.feed.post/p' || (x.g - 35))))
        WHEN c.platform = 'reddit' AND x.g % 2 = 0 THEN jsonb_build_object('parent_id',
            't3_p' || (x.g - 5))
        ELSE '{}'::jsonb END
FROM (SELECT id, published_at, substring(platform_id FROM 2)::bigint AS g
      FROM content_records
      WHERE platform IN ('bluesky', 'reddit')) AS x
WHERE c.id = x.id AND c.published_at = x.published_at AND x.g > 35;
