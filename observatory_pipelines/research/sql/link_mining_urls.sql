-- top_urls: per page (url_key), the records linking to it (a record's links are distinct
-- per key), their distinct authors, records per platform, the first dated share and its
-- platform, and the page's title when the page is itself a record of the scope.
WITH {{ mined_links }},
ranked AS (  -- the links of every page counted, hashed; the rest read for the listed only
    SELECT url_key, count(*) AS n_records
    FROM mined
    GROUP BY url_key
    ORDER BY n_records DESC, url_key
    LIMIT :top_urls
),
pages AS (  -- every stored link of the listed pages, in one scan: the counted ones and the
    -- pages' own records (whose titles are looked up below)
    SELECT r.* FROM research_links AS r JOIN ranked USING (url_key)
),
listed AS (  -- the counted links of the listed pages (mined_links' rule)
    SELECT * FROM pages
    WHERE CAST(:include_self_references AS boolean) OR url_type <> 'self_reference'
),
groups AS (  -- the listed links per (page, platform, author), hashed: a page's figures are
    -- sums over its groups, its authors the groups with a pseudonym (no count(DISTINCT) sort)
    SELECT url_key,
           platform,
           author,
           count(*) AS records,
           min(url_clean) AS url_clean,
           min(registered_domain) AS registered_domain,
           min(published_at) FILTER (WHERE NOT undated) AS first_published_at
    FROM listed
    GROUP BY url_key, platform, author
),
urls AS (
    SELECT r.url_key, a.url_clean, a.registered_domain, r.n_records, a.first_published_at,
           a.n_actors
    FROM ranked AS r
    JOIN (SELECT url_key,
                 min(url_clean) AS url_clean,
                 min(registered_domain) AS registered_domain,
                 min(first_published_at) AS first_published_at,
                 count(author) AS n_actors
          FROM groups GROUP BY url_key) AS a USING (url_key)
),
platforms AS (
    SELECT url_key, jsonb_object_agg(platform, records) AS platforms
    FROM (SELECT url_key, platform, sum(records)::bigint AS records
          FROM groups GROUP BY 1, 2) AS p
    GROUP BY url_key
),
-- the first row per page picked in "C" order of the key: the same rows, bytes compared
firsts AS (
    SELECT DISTINCT ON (url_key COLLATE "C") url_key, platform AS first_platform
    FROM listed
    WHERE NOT undated
    ORDER BY url_key COLLATE "C", published_at, platform, record_id
),
titles AS (  -- of the listed pages' own records: one index lookup each (a subquery, not a
    -- join: bulk_session's hash joins would scan every record for a few hundred titles)
    SELECT DISTINCT ON (url_key COLLATE "C") url_key, title
    FROM (SELECT p.url_key, p.published_at, p.record_id,
                 (SELECT c.title FROM content_records AS c
                  WHERE c.id = p.record_id AND c.published_at = p.published_at) AS title
          FROM pages AS p
          WHERE p.url_type = 'self_reference') AS own
    WHERE title IS NOT NULL
    ORDER BY url_key COLLATE "C", published_at, record_id
)
SELECT u.url_key,
       u.url_clean,
       u.registered_domain,
       t.title,
       u.n_records,
       u.n_actors,
       p.platforms,
       u.first_published_at,
       f.first_platform
FROM urls AS u
JOIN platforms AS p USING (url_key)
LEFT JOIN firsts AS f USING (url_key)
LEFT JOIN titles AS t USING (url_key)
ORDER BY u.n_records DESC, u.url_key
