-- Link propagation: per page shared at least :min_url_shares times (or shared at all when it
-- is a news record of the scope: its own URL on RSS, GDELT, web news), the first dated share
-- (time, platform, account), shares per platform, the first share per platform and its lag
-- from the article's own publication. Undated shares are counted apart and never date.
-- The first row per page (articles, firsts) is picked in "C" order of the key: the same rows,
-- bytes compared instead of strcoll per comparison.
-- shares is not materialized: each use scans the stored links, rather than a copy of ~1 M
-- shares in a CTE store that spills past work_mem.
WITH shares AS NOT MATERIALIZED (
    SELECT * FROM research_links WHERE url_type <> 'self_reference' AND NOT undated
),
undated AS (
    SELECT url_key, count(*) AS n
    FROM research_links
    WHERE url_type <> 'self_reference' AND undated
    GROUP BY url_key
),
articles AS (
    SELECT DISTINCT ON (url_key COLLATE "C")
           url_key, record_id AS article_record_id, platform AS article_platform,
           published_at AS article_published_at
    FROM research_links
    WHERE url_type = 'self_reference' AND is_news AND NOT undated
    ORDER BY url_key COLLATE "C", published_at, record_id
),
urls AS (  -- hashed: the distinct authors and platforms are counted for the picked pages only
    SELECT url_key, count(*) AS n_shares FROM shares GROUP BY url_key
),
picked AS (
    SELECT u.*, a.article_record_id, a.article_platform, a.article_published_at
    FROM urls AS u
    LEFT JOIN articles AS a USING (url_key)
    WHERE u.n_shares >= :min_url_shares OR a.article_record_id IS NOT NULL
    ORDER BY u.n_shares DESC, u.url_key
    LIMIT :top_urls
),
described AS (
    SELECT s.url_key,
           min(s.url_clean) AS url_clean,
           min(s.registered_domain) AS registered_domain,
           count(DISTINCT s.platform || ':' || s.author) AS n_actors,
           count(DISTINCT s.platform) AS n_platforms
    FROM shares AS s
    JOIN picked USING (url_key)
    GROUP BY s.url_key
),
firsts AS (
    SELECT DISTINCT ON (s.url_key COLLATE "C")
           s.url_key, s.published_at, s.platform, s.platform || ':' || s.author AS account,
           s.author_name
    FROM shares AS s
    JOIN picked USING (url_key)
    ORDER BY s.url_key COLLATE "C", s.published_at, s.platform, s.record_id
),
per_platform AS (
    SELECT x.url_key,
           jsonb_object_agg(x.platform, x.n) AS shares_by_platform,
           jsonb_object_agg(x.platform, x.first_share) AS first_share_per_platform,
           jsonb_object_agg(
               x.platform, round(extract(epoch FROM x.first_share - p.article_published_at) / 60, 2)
           ) FILTER (WHERE p.article_published_at IS NOT NULL) AS lag_min_per_platform
    FROM (SELECT s.url_key, s.platform, count(*) AS n, min(s.published_at) AS first_share
          FROM shares AS s
          JOIN picked USING (url_key)
          GROUP BY s.url_key, s.platform) AS x
    JOIN picked AS p USING (url_key)
    GROUP BY x.url_key
)
SELECT p.url_key,
       d.url_clean,
       d.registered_domain,
       p.n_shares,
       d.n_actors,
       d.n_platforms,
       coalesce(u.n, 0) AS n_undated_excluded,
       f.published_at AS first_published_at,
       f.platform AS first_platform,
       f.account AS first_actor,
       f.author_name AS first_actor_name,
       x.shares_by_platform,
       x.first_share_per_platform,
       p.article_record_id,
       p.article_platform,
       p.article_published_at,
       x.lag_min_per_platform
FROM picked AS p
JOIN described AS d USING (url_key)
JOIN per_platform AS x USING (url_key)
LEFT JOIN firsts AS f USING (url_key)
LEFT JOIN undated AS u USING (url_key)
ORDER BY p.n_shares DESC, p.url_key
