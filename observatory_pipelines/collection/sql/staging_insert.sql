-- One statement per batch. Dedup, in order:
--   * the same content twice in this batch: DISTINCT ON (platform, content_hash);
--   * the same content already stored by this run (an earlier batch): NOT EXISTS on the hash;
--   * an undated record stored before (its published_at is a collected_at, so it differs per
--     run): NOT EXISTS on (platform, platform_id) among undated rows;
--   * everything else: the unique key (platform, platform_id, published_at) via ON CONFLICT.
INSERT INTO content_records (
    published_at, platform, arena, platform_id, content_type, url, text_content, title,
    language, collected_at, author_platform_id, author_display_name, author_id,
    pseudonymized_author_id, views_count, likes_count, shares_count, comments_count,
    collection_run_id, query_design_id, search_terms_matched, collection_tier, raw_metadata,
    media_urls, content_hash
)
SELECT
    s.published_at, s.platform, s.arena, s.platform_id, s.content_type, s.url, s.text_content,
    s.title, s.language, s.collected_at, s.author_platform_id, s.author_display_name, s.author_id::uuid,
    s.pseudonymized_author_id, s.views_count, s.likes_count, s.shares_count, s.comments_count,
    %(run_id)s, %(query_design_id)s, s.search_terms_matched, %(tier)s, s.raw_metadata::jsonb,
    s.media_urls, s.content_hash
FROM (
    SELECT DISTINCT ON (platform, coalesce(content_hash, platform_id)) *
    FROM collection_staging
    ORDER BY platform, coalesce(content_hash, platform_id), published_at
) AS s
WHERE (
    %(run_id)s::uuid IS NULL
    OR s.content_hash IS NULL
    OR NOT EXISTS (
        SELECT 1 FROM content_records AS c
        WHERE c.content_hash = s.content_hash
          AND c.platform = s.platform
          AND c.collection_run_id = %(run_id)s::uuid
    )
)
AND (
    NOT s.undated
    OR NOT EXISTS (
        SELECT 1 FROM content_records AS c
        WHERE c.platform = s.platform
          AND c.platform_id = s.platform_id
          AND c.raw_metadata ->> 'published_at_source' = 'collected_at'
    )
)
ON CONFLICT DO NOTHING
