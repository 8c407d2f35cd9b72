-- Fold a delta of facets ({{ facet_delta }}: rows shaped like stg_content) into the design's
-- persisted facets: new keys inserted, existing ones' sums added to (a negative delta
-- subtracts). In the same statement the design's logged changes are consumed (DELETE ...
-- RETURNING, one snapshot): an incremental refresh folds exactly those rows; a full rebuild
-- (run under SHARE locks on the records and links, so nothing commits meanwhile) discards
-- them because its delta was read from the records themselves.
-- Returns how many changes were consumed, how many facets changed, and the keys whose record
-- count fell to 0 (deleted next: every record they counted went).
WITH consumed AS (
    DELETE FROM analysis_facet_changes
    WHERE query_design_id = CAST(:query_design_id AS uuid)
    RETURNING *
),
merged AS (
    INSERT INTO analysis_facets AS f (
        query_design_id, facet_key, facet, platform, arena, collection_run_id, hour,
        author_key, pseudonymized_author_id, author_display_name, author_id,
        author_platform_id, terms, likes_count, shares_count, comments_count, views_count,
        records, engagement, scope_records
    )
    SELECT CAST(:query_design_id AS uuid),
           -- the facet's keys as one value: a row's text form is injective (NULL and '' differ)
           CAST(md5(CAST(ROW(d.facet, d.platform, d.arena, d.collection_run_id, d.hour,
                             d.pseudonymized_author_id, d.author_display_name, d.author_id,
                             d.author_platform_id, d.terms, d.likes_count, d.shares_count,
                             d.comments_count, d.views_count) AS text)) AS uuid),
           d.facet, d.platform, d.arena, d.collection_run_id, d.hour, d.author_key,
           d.pseudonymized_author_id, d.author_display_name, d.author_id,
           d.author_platform_id, d.terms, d.likes_count, d.shares_count, d.comments_count,
           d.views_count, d.records, d.engagement, d.scope_records
    FROM ({{ facet_delta }}) AS d
    WHERE d.records <> 0 OR d.engagement <> 0
    ON CONFLICT (query_design_id, facet_key) DO UPDATE
    SET records = f.records + EXCLUDED.records,
        engagement = f.engagement + EXCLUDED.engagement,
        scope_records = f.scope_records + EXCLUDED.scope_records
    RETURNING f.facet_key, f.records
)
SELECT (SELECT count(*) FROM consumed) AS changes_consumed,
       count(*) AS facets_changed,
       coalesce(array_agg(m.facet_key) FILTER (WHERE m.records = 0), '{}') AS emptied
FROM merged AS m
