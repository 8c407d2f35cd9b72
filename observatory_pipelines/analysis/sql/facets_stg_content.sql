-- stg_content of the standard scope read from the persisted facets (the same columns, in
-- the same types, as the fold of dbt_like_sql/stg_content.sql builds them).
CREATE TEMP TABLE stg_content ON COMMIT DROP AS
SELECT f.facet, CAST(f.platform AS varchar(50)) AS platform,
       CAST(f.arena AS varchar(50)) AS arena, f.collection_run_id, f.hour,
       CAST(f.author_key AS varchar) AS author_key,
       CAST(f.pseudonymized_author_id AS varchar(64)) AS pseudonymized_author_id,
       CAST(f.author_display_name AS varchar(500)) AS author_display_name, f.author_id,
       CAST(f.author_platform_id AS varchar(500)) AS author_platform_id, f.terms,
       f.likes_count, f.shares_count, f.comments_count, f.views_count,
       f.records, f.engagement, f.scope_records
FROM analysis_facets AS f
WHERE f.query_design_id = CAST(:query_design_id AS uuid)
