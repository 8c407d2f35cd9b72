-- One statement per batch. Dedup, in order:
--   * the same content twice in this batch: DISTINCT ON (platform, content_hash);
--   * the same content staged earlier by this task: an index probe into collection_seen_content;
--   * an undated record stored before (its published_at is a collected_at, so it differs per
--     run): NOT EXISTS on (platform, platform_id) among undated rows;
--   * a record stored before: a probe of the unique key (platform, platform_id, published_at)
--     of the rows DISTINCT ON kept.
-- The insert itself has no ON CONFLICT: speculative insertion (a pre-check of both unique
-- indexes, a speculative token and a second WAL record a row) cost a tenth of a plain COPY of
-- the batch, for conflicts the probe above already rules out among committed rows. What it
-- cannot see (a concurrent task's uncommitted copy, or two staged rows with one key but
-- different content) raises unique_violation; ingest.py then rolls the batch back and writes
-- it again with the line marked "retry:" below switched on, which skips such rows after
-- waiting for their writer, as before.
-- Every row inserted here is linked to the design and run in the same statement (its id comes
-- back from RETURNING, so no probe finds it again; a new record has no link yet). Rows not
-- inserted are linked by staging_attribute.sql, which the ingester runs only then.
-- The batch's hashes are then remembered for the next batches.
-- Returns (records inserted, links inserted).
WITH staged AS MATERIALIZED (
    -- Each staged row with its seen-content key and whether an earlier batch of the task had
    -- it: probed once here, used by the dedup below and by "remembered".
    SELECT s.*, CAST(md5(s.platform || ' ' || s.content_hash) AS uuid) AS content_key,
           seen.hit IS NOT NULL AS seen_before
    FROM collection_staging AS s
    -- LATERAL + LIMIT 1: one probe of the primary key per row. A NOT EXISTS is planned as a
    -- merge anti-join that sorts every hash the task has seen, once per batch (the temp table
    -- has no statistics), which grows with the square of the task's size.
    LEFT JOIN LATERAL (
        SELECT 1 AS hit
        FROM collection_seen_content AS h
        WHERE h.content_key = CAST(md5(s.platform || ' ' || s.content_hash) AS uuid)
        LIMIT 1
    ) AS seen ON true
), fresh AS (
    -- COLLATE "C": byte order, so the sort compares abbreviated keys instead of calling strcoll;
    -- equality, all that DISTINCT ON needs, is the same in every deterministic collation.
    SELECT DISTINCT ON (
        s.platform COLLATE "C", coalesce(s.content_hash, s.platform_id) COLLATE "C"
    ) s.*
    FROM staged AS s
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
      AND NOT s.seen_before
    ORDER BY s.platform COLLATE "C", coalesce(s.content_hash, s.platform_id) COLLATE "C",
             s.published_at
), inserted AS (
    INSERT INTO content_records (
        id, published_at, platform, arena, platform_id, content_type, url, text_content, title,
        language, collected_at, author_platform_id, author_display_name, author_id,
        pseudonymized_author_id, views_count, likes_count, shares_count, comments_count,
        collection_run_id, query_design_id, search_terms_matched, collection_tier, raw_metadata,
        media_urls, content_hash
    )
    SELECT
        f.id, f.published_at, f.platform, f.arena, f.platform_id, f.content_type, f.url,
        f.text_content, f.title, f.language, f.collected_at, f.author_platform_id,
        f.author_display_name, f.author_id::uuid, f.pseudonymized_author_id, f.views_count,
        f.likes_count, f.shares_count, f.comments_count, CAST(%(run_id)s AS uuid),
        CAST(%(query_design_id)s AS uuid), f.search_terms_matched, %(tier)s,
        f.raw_metadata::jsonb, f.media_urls, f.content_hash
    FROM fresh AS f
    -- After DISTINCT ON, as ON CONFLICT was: a copy picked there whose key is stored drops its
    -- content, never lets a later copy of it in. LATERAL + LIMIT 1: one probe of the unique
    -- key per row, in the one partition its published_at names.
    LEFT JOIN LATERAL (
        SELECT 1 AS hit
        FROM content_records AS c
        WHERE NOT f.undated  -- undated rows: their own probe above, by (platform, platform_id)
          AND c.platform = f.platform
          AND c.platform_id = f.platform_id
          AND c.published_at = f.published_at
        LIMIT 1
    ) AS stored ON true
    WHERE stored.hit IS NULL
    -- In id order (time-ordered: arrival), so the id-led primary keys here and in the links
    -- grow at their right edge and split full pages, as a COPY of the rows in arrival order
    -- does; in DISTINCT ON's order the batch's ids land in random order among its own pages,
    -- which splits them half-empty (at 60,000 records: a quarter more pages). The retry keeps
    -- DISTINCT ON's order: there, which of two rows with one key is inserted first decides
    -- which is kept, and that stays what it always was. In the plain try the order decides
    -- nothing: a conflict fails the whole batch.
    ORDER BY f.id  -- retry: in DISTINCT ON's order
    -- retry: ON CONFLICT DO NOTHING
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
    -- The keys no earlier batch had (a plain insert: none of them is in the table yet).
    INSERT INTO collection_seen_content (content_key)
    SELECT DISTINCT content_key
    FROM staged
    WHERE content_key IS NOT NULL
      AND NOT seen_before
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM linked)
