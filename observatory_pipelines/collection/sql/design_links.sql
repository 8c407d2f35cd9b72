-- The pages a design's records point to, for domain_crawler: each record's own URL (an RSS
-- item's link, a post's URL) and the links the links enrichment found in its text
-- (enrichment_urls), newest record first. The page fetchers' own records are left out:
-- they are the crawl's results, not its sources.
WITH design_records AS (
    SELECT c.id, c.published_at, c.platform, c.platform_id, c.url
    FROM content_record_collections AS l
    JOIN content_records AS c
      ON c.id = l.content_record_id AND c.published_at = l.published_at
    WHERE l.query_design_id = CAST(:design_id AS uuid)
      AND l.published_at >= :date_from
      AND l.published_at < :date_to
      AND c.platform NOT IN ('domain_crawler', 'url_scraper')
)
SELECT url, platform, platform_id
FROM (
    SELECT r.url, r.platform, r.platform_id, r.published_at
    FROM design_records AS r
    WHERE r.url IS NOT NULL
    UNION ALL
    SELECT u.url_clean, r.platform, r.platform_id, r.published_at
    FROM design_records AS r
    JOIN enrichment_urls AS u ON u.record_id = r.id AND u.published_at = r.published_at
    WHERE NOT u.domain_only
) AS links
ORDER BY published_at DESC, url
LIMIT :limit
