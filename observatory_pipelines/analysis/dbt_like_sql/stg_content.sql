-- The design's records after the shared filters, narrowed to what the models read (no text),
-- so every downstream model scans a small temp table instead of content_records.
-- author_key: the pseudonym, else the platform-qualified display name; NULL when both are
-- missing, and NULL authors are left out of every actor statistic and network (no "unknown" hub).
-- Terms are de-duplicated and sorted per record, so counts over unnest() count records.
-- params: query_design_id, collection_run_id, arenas, platforms, date_from, date_to_exclusive, languages, terms
-- depends_on:
-- returns: count
SELECT
    c.id,
    c.published_at,
    c.platform,
    c.arena,
    coalesce(
        c.pseudonymized_author_id,
        CASE WHEN c.author_display_name IS NOT NULL
             THEN 'name:' || c.platform || ':' || c.author_display_name END
    ) AS author_key,
    c.pseudonymized_author_id,
    c.author_display_name,
    c.author_id,
    c.author_platform_id,
    c.likes_count,
    c.shares_count,
    c.comments_count,
    c.views_count,
    coalesce(c.likes_count, 0) + coalesce(c.shares_count, 0) + coalesce(c.comments_count, 0)
        AS engagement,
    CASE WHEN cardinality(c.search_terms_matched) > 1
         THEN ARRAY(SELECT DISTINCT t FROM unnest(c.search_terms_matched) AS u(t)
                    WHERE t IS NOT NULL ORDER BY t)
         ELSE coalesce(c.search_terms_matched, '{}') END AS terms,
    c.collection_run_id
FROM content_records AS c
WHERE {{ scope_where }}
