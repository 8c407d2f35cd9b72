-- Fragment: the rows of relation $1 (record_id, published_at, url_type, url_key, url_clean,
-- registered_domain: enrichment_urls, or a union with other per-record objects) for the
-- scope's records, with what every link analysis needs of the record: platform, author,
-- time. links_in_scope.sql (the links) and coordination_links.sql (the links and the
-- near-duplicate groups) are it.
-- undated: published_at is the collection time (collection stored no publication date).
-- is_news: the news arenas (RSS, GDELT, web news), whose own URL is the outlet's page.
-- Only the columns the three analyses read: at 1 M records the table holds ~1.1 M links and
-- should stay within the session's temp_buffers. No title: link mining looks up the titles
-- of its top pages only (link_mining_urls.sql); carried for every record through the two
-- hash joins it cost 8 % of the statement at 1 M.
SELECT c.id AS record_id,
       c.published_at,
       c.platform,
       c.pseudonymized_author_id AS author,
       c.author_display_name AS author_name,
       c.author_id,
       coalesce(c.raw_metadata ->> 'published_at_source' = 'collected_at', false) AS undated,
       c.arena IN ('news_media', 'news') AS is_news,
       u.url_type,
       u.url_key,
       u.url_clean,
       u.registered_domain
FROM {{ scope_records }}
-- matched on the record key as the scope fragment matches it (_scope_records.sql): the id
-- hashed, published_at in a CASE, so the join is estimated at its real size, not one row
JOIN $1 AS u
  ON u.record_id = c.id AND (CASE WHEN u.published_at = c.published_at THEN 1 END) IS NOT NULL
WHERE {{ scope_where }}
