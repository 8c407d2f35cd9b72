-- One statement per batch. Dedup, in order:
--   * the same content twice in this batch: DISTINCT ON (platform, content_hash);
--   * the same content staged earlier by this task: anti-join on collection_seen_hashes;
--   * an undated record stored before (its published_at is a collected_at, so it differs per
--     run): NOT EXISTS on (platform, platform_id) among undated rows;
--   * everything else: the unique key (platform, platform_id, published_at) via ON CONFLICT.
-- The batch's hashes are then remembered for the next batches.
WITH fresh AS (
    SELECT DISTINCT ON (s.platform, coalesce(s.content_hash, s.platform_id)) s.*
    FROM collection_staging AS s
    -- LATERAL + LIMIT 1: one index probe per undated row (never a scan of content_records);
    -- for dated rows the probe is a one-time-false filter.
    LEFT JOIN LATERAL (
        SELECT 1 AS hit
        FROM content_records AS c
        WHERE s.undated
          AND c.platform = s.platform
          AND c.platform_id = s.platform_id
          AND c.raw_metadata ->> 'published_at_source' = 'collected_at'
        LIMIT 1
    ) AS stored_undated ON true
    WHERE stored_undated.hit IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM collection_seen_hashes AS h
        WHERE h.platform = s.platform AND h.content_hash = s.content_hash
    )
    ORDER BY s.platform, coalesce(s.content_hash, s.platform_id), s.published_at
), inserted AS (
    INSERT INTO content_records (
        published_at, platform, arena, platform_id, content_type, url, text_content, title,
        language, collected_at, author_platform_id, author_display_name, author_id,
        pseudonymized_author_id, views_count, likes_count, shares_count, comments_count,
        collection_run_id, query_design_id, search_terms_matched, collection_tier, raw_metadata,
        media_urls, content_hash
    )
    SELECT
        f.published_at, f.platform, f.arena, f.platform_id, f.content_type, f.url,
        f.text_content, f.title, f.language, f.collected_at, f.author_platform_id,
        f.author_display_name, f.author_id::uuid, f.pseudonymized_author_id, f.views_count,
        f.likes_count, f.shares_count, f.comments_count, CAST(%(run_id)s AS uuid),
        CAST(%(query_design_id)s AS uuid), f.search_terms_matched, %(tier)s,
        f.raw_metadata::jsonb, f.media_urls, f.content_hash
    FROM fresh AS f
    ON CONFLICT DO NOTHING
    RETURNING 1
), remembered AS (
    INSERT INTO collection_seen_hashes (platform, content_hash)
    SELECT DISTINCT platform, content_hash FROM collection_staging WHERE content_hash IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM inserted
