-- Enrichment rows for the research benchmark, derived from the records bench/analysis.py
-- fills (platform_id = 'p' || g): what record_urls and record_near_duplicates would store,
-- without running them (bench/enrichments.py times those).
-- Links: news records (rss_feeds, gdelt) carry their own URL; 2 of 3 records link a page
-- of 200 domains x 50,000 pages, popular pages far more often (the cube of a uniform draw);
-- 1 in 7 social records links a news record of the corpus (an article shared).
INSERT INTO enrichment_urls (record_id, published_at, ordinal, url_type, url_raw, url_clean,
                             url_key, host, registered_domain, outlet, is_shortener,
                             domain_only)
SELECT c.id, c.published_at, l.ordinal, l.url_type, 'https://' || l.url_key,
       'https://' || l.url_key, l.url_key, split_part(l.url_key, '/', 1),
       split_part(l.url_key, '/', 1), NULL, false, false
FROM content_records AS c
CROSS JOIN LATERAL (SELECT substring(c.platform_id FROM 2)::bigint AS g) AS x
CROSS JOIN LATERAL (
    SELECT 1 AS ordinal, 'self_reference' AS url_type, 'example.org/post/' || x.g AS url_key
    WHERE c.arena = 'news_media'
    UNION ALL
    SELECT 2, 'text_extracted', 'site' || (p.page % 200) || '.dk/a/' || p.page
    FROM (SELECT floor(50000 * power(((x.g * 7919) % 100003) / 100003.0, 3))::bigint AS page) AS p
    WHERE x.g % 3 <> 0
    UNION ALL
    SELECT 3, 'text_extracted', 'example.org/post/' || (x.g - x.g % 5 + 2)
    WHERE x.g % 7 = 0 AND c.arena <> 'news_media'
) AS l;

-- Near-duplicates: every record compared; 3 in 20 in groups of three (records 20k, 20k+1,
-- 20k+2: bluesky, reddit and rss_feeds).
INSERT INTO enrichment_near_dup (record_id, published_at, signature, group_id, jaccard, method,
                                 method_version, computed_at)
SELECT c.id, c.published_at, '\x01'::bytea,
       CASE WHEN x.g % 20 < 3 THEN md5('group' || x.g / 20)::uuid END,
       CASE WHEN x.g % 20 < 3 THEN 0.8 END,
       'record_near_duplicates', 'bench', now()
FROM content_records AS c
CROSS JOIN LATERAL (SELECT substring(c.platform_id FROM 2)::bigint AS g) AS x;

INSERT INTO enrichment_near_dup_groups (group_id, origin_record_id, origin_published_at,
                                        origin_signature, size, updated_at)
SELECT DISTINCT ON (group_id) group_id, record_id, published_at, signature,
       count(*) OVER (PARTITION BY group_id), now()
FROM enrichment_near_dup
WHERE group_id IS NOT NULL
ORDER BY group_id, published_at, record_id;
