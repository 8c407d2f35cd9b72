-- The links (enrichment_urls, record_urls) of the scope's records with what every link
-- analysis needs of the record: platform, arena, author, time. Stored as a temp table
-- (framework.temp_table), so link mining, propagation and coordination scan the scope once.
-- undated: published_at is the collection time (collection stored no publication date).
-- is_news: the news arenas (RSS, GDELT, web news), whose own URL is the outlet's page.
-- Only the columns the three analyses read: at 1 M records the table holds ~1.1 M links and
-- should stay within the session's temp_buffers.
SELECT c.id AS record_id,
       c.published_at,
       c.platform,
       c.arena,
       c.pseudonymized_author_id AS author,
       c.author_display_name AS author_name,
       c.author_id,
       coalesce(c.raw_metadata ->> 'published_at_source' = 'collected_at', false) AS undated,
       c.arena IN ('news_media', 'news') AS is_news,
       u.url_type,
       u.url_key,
       u.url_clean,
       u.registered_domain,
       CASE WHEN u.url_type = 'self_reference' THEN c.title END AS title
FROM {{ scope_records }}
-- matched on the record key as the scope fragment matches it (_scope_records.sql): the id
-- hashed, published_at in a CASE, so the join is estimated at its real size, not one row
JOIN enrichment_urls AS u
  ON u.record_id = c.id AND (CASE WHEN u.published_at = c.published_at THEN 1 END) IS NOT NULL
WHERE {{ scope_where }}
