-- Fragment (not a model): the facet inputs of the scope's records, one row per (link, record)
-- with sign 1, the columns _facet_fold.sql reads. analysis_facet_changes holds the same columns
-- (signed) for the persisted facets; its triggers (migration 013) copy them the same way.
SELECT 1 AS sign,
       c.platform,
       c.arena,
       coalesce(CAST(:collection_run_id AS uuid), l.first_collection_run_id) AS collection_run_id,
       c.published_at,
       c.pseudonymized_author_id,
       c.author_display_name,
       c.author_id,
       c.author_platform_id,
       l.search_terms_matched AS terms,
       c.likes_count,
       c.shares_count,
       c.comments_count,
       c.views_count
FROM {{ scope_records }}
WHERE {{ scope_where }}
