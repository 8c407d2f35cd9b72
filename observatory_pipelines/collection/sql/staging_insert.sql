-- One statement per batch. Dedup, in order:
--   * the same content twice in this batch: DISTINCT ON (platform, content_hash);
--   * the same content staged earlier by this task: an index probe into collection_seen_content;
--   * an undated record stored before (its published_at is a collected_at, so it differs per
--     run): NOT EXISTS on (platform, platform_id) among undated rows;
--   * everything else: the unique key (platform, platform_id, published_at) via ON CONFLICT.
-- Every row inserted here is linked to the design and run in the same statement (its id comes
-- back from RETURNING, so no probe finds it again; a new record has no link yet). Rows not
-- inserted are linked by staging_attribute.sql, which the ingester runs only then.
-- The batch's hashes are then remembered for the next batches.
-- Returns (records inserted, links inserted).
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
    -- LATERAL + LIMIT 1 again: one probe of the primary key per row. A NOT EXISTS is planned
    -- as a merge anti-join that sorts every hash the task has seen, once per batch (the temp
    -- table has no statistics), which grows with the square of the task's size.
    LEFT JOIN LATERAL (
        SELECT 1 AS hit
        FROM collection_seen_content AS h
        WHERE h.content_key = CAST(md5(s.platform || ' ' || s.content_hash) AS uuid)
        LIMIT 1
    ) AS seen ON true
    WHERE stored_undated.hit IS NULL
      AND seen.hit IS NULL
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
    RETURNING id, published_at, search_terms_matched
), linked AS (
    INSERT INTO content_record_collections (
        query_design_id, content_record_id, published_at, first_collection_run_id,
        collection_run_ids, search_terms_matched
    )
    SELECT
        CAST(%(query_design_id)s AS uuid), i.id, i.published_at, CAST(%(run_id)s AS uuid),
        CASE WHEN CAST(%(run_id)s AS uuid) IS NULL THEN '{}'::uuid[]
             ELSE ARRAY[CAST(%(run_id)s AS uuid)] END,
        i.search_terms_matched
    FROM inserted AS i
    WHERE CAST(%(query_design_id)s AS uuid) IS NOT NULL
    RETURNING 1
), remembered AS (
    INSERT INTO collection_seen_content (content_key)
    SELECT DISTINCT CAST(md5(platform || ' ' || content_hash) AS uuid)
    FROM collection_staging
    WHERE content_hash IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM linked)
