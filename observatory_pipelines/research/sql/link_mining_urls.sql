-- top_urls: per page (url_key), the records linking to it (a record's links are distinct
-- per key), their distinct authors, records per platform, the first dated share and its
-- platform, and the page's title when the page is itself a record of the scope.
WITH {{ mined_links }},
urls AS (
    SELECT url_key,
           min(url_clean) AS url_clean,
           min(registered_domain) AS registered_domain,
           count(*) AS n_records,
           count(DISTINCT platform || ':' || author) AS n_actors,
           min(published_at) FILTER (WHERE NOT undated) AS first_published_at
    FROM mined
    GROUP BY url_key
    ORDER BY n_records DESC, url_key
    LIMIT :top_urls
)
SELECT u.url_key,
       u.url_clean,
       u.registered_domain,
       (SELECT r.title FROM research_links AS r
        WHERE r.url_key = u.url_key AND r.url_type = 'self_reference' AND r.title IS NOT NULL
        ORDER BY r.published_at, r.record_id LIMIT 1) AS title,
       u.n_records,
       u.n_actors,
       (SELECT jsonb_object_agg(p.platform, p.records)
        FROM (SELECT m.platform, count(*) AS records FROM mined AS m
              WHERE m.url_key = u.url_key GROUP BY m.platform) AS p) AS platforms,
       u.first_published_at,
       (SELECT m.platform FROM mined AS m
        WHERE m.url_key = u.url_key AND NOT m.undated
        ORDER BY m.published_at, m.platform, m.record_id LIMIT 1) AS first_platform
FROM urls AS u
ORDER BY u.n_records DESC, u.url_key
