-- link_targets: the original link miner's platform-target rules (in its order) over every
-- counted link — Telegram channels, Discord invites, YouTube channels and videos, Reddit
-- users and subreddits, Bluesky profiles, Gab, X/Twitter, Instagram and TikTok accounts —
-- counted by distinct records and authors, dated by publication (undated records left out
-- of first/last), targets with at least :min_target_records records. Other hosts are not
-- targets (top_domains counts them). url_key has no scheme and no www./m. prefix.
WITH {{ mined_links }},
classified AS (
    SELECT m.*, r.rule[1] AS target_platform, r.rule[2] AS target_kind, r.rule[3] AS target
    FROM mined AS m
    CROSS JOIN LATERAL (
        SELECT regexp_match(m.url_key, '^(t|telegram)\.me/(s/)?([a-z0-9_]{3,})', 'i') AS telegram,
               regexp_match(m.url_key, '^(discord\.gg|discord(app)?\.com/invite)/([a-z0-9-]+)', 'i')
                   AS discord,
               regexp_match(m.url_key, '^youtube\.com/(c/|@|channel/|user/)([^/?#]+)', 'i') AS youtube,
               regexp_match(m.url_key, '^youtu\.be/([a-z0-9_-]+)', 'i') AS youtu_be,
               regexp_match(m.url_key, '^(old\.)?reddit\.com/(u|user|r)/([^/?#]+)', 'i') AS reddit,
               regexp_match(m.url_key, '^bsky\.app/profile/([^/?#]+)', 'i') AS bluesky,
               regexp_match(m.url_key, '^gab\.com/([a-z0-9_]+)', 'i') AS gab,
               regexp_match(m.url_key, '^(twitter|x)\.com/([a-z0-9_]+)', 'i') AS twitter,
               regexp_match(m.url_key, '^instagram\.com/([a-z0-9_.]+)', 'i') AS instagram,
               regexp_match(m.url_key, '^tiktok\.com/@([a-z0-9_.]+)', 'i') AS tiktok
    ) AS x
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN x.telegram IS NOT NULL THEN ARRAY['telegram', 'channel', lower(x.telegram[3])]
            WHEN x.discord IS NOT NULL THEN ARRAY['discord', 'invite', x.discord[3]]
            WHEN x.youtube IS NOT NULL THEN ARRAY['youtube', 'channel',
                CASE WHEN lower(x.youtube[1]) = 'channel/' THEN 'channel/' || x.youtube[2]
                     ELSE lower(x.youtube[1] || x.youtube[2]) END]
            WHEN x.youtu_be IS NOT NULL THEN ARRAY['youtube', 'video', x.youtu_be[1]]
            WHEN x.reddit IS NOT NULL THEN
                CASE WHEN lower(x.reddit[2]) = 'r'
                     THEN ARRAY['reddit', 'subreddit', 'r/' || lower(x.reddit[3])]
                     ELSE ARRAY['reddit', 'user', 'u/' || lower(x.reddit[3])] END
            WHEN x.bluesky IS NOT NULL THEN ARRAY['bluesky', 'profile', lower(x.bluesky[1])]
            WHEN x.gab IS NOT NULL THEN ARRAY['gab', 'account', lower(x.gab[1])]
            WHEN x.twitter IS NOT NULL
                 AND lower(x.twitter[2]) NOT IN ('i', 'home', 'search', 'intent', 'hashtag',
                                                 'share', 'explore', 'settings', 'messages',
                                                 'notifications')
                THEN ARRAY['x_twitter', 'account', lower(x.twitter[2])]
            WHEN x.instagram IS NOT NULL
                 AND lower(x.instagram[1]) NOT IN ('p', 'reel', 'reels', 'explore', 'stories',
                                                   'tv', 'accounts')
                THEN ARRAY['instagram', 'account', lower(x.instagram[1])]
            WHEN x.tiktok IS NOT NULL THEN ARRAY['tiktok', 'account', lower(x.tiktok[1])]
        END AS rule
    ) AS r
    -- only the platforms' domains are matched against the rules (the rest cannot match)
    WHERE m.registered_domain IN ('t.me', 'telegram.me', 'discord.gg', 'discord.com',
                                  'discordapp.com', 'youtube.com', 'youtu.be', 'reddit.com',
                                  'bsky.app', 'gab.com', 'twitter.com', 'x.com',
                                  'instagram.com', 'tiktok.com')
      AND r.rule IS NOT NULL
)
SELECT target_platform,
       target_kind,
       target,
       count(DISTINCT record_id) AS n_records,
       count(DISTINCT platform || ':' || author) AS n_actors,
       count(DISTINCT platform) AS n_source_platforms,
       min(published_at) FILTER (WHERE NOT undated) AS first_published_at,
       max(published_at) FILTER (WHERE NOT undated) AS last_published_at,
       (array_agg(DISTINCT url_clean ORDER BY url_clean))[1:3] AS example_urls,
       (array_agg(url_clean ORDER BY undated, published_at, record_id))[1] AS first_url
FROM classified
GROUP BY target_platform, target_kind, target
HAVING count(DISTINCT record_id) >= :min_target_records
ORDER BY n_records DESC, target_platform, target
LIMIT :top_targets
