-- Fragment (not a model): signed facet inputs ({{ facet_rows }}: sign, platform, arena,
-- collection_run_id, published_at, author fields, terms, counts) folded into stg_content's
-- facets in one hashed pass. records, engagement and scope_records are sums of sign-weighted
-- values, so folding +1 rows from an empty state is the full recompute and folding the logged
-- +1/-1 changes into stored facets is the incremental one.
SELECT
    CASE WHEN grouping(s.hour) = 0 THEN 'volume'
         WHEN grouping(s.terms) = 0 THEN 'author'
         WHEN grouping(s.likes_count) = 0 THEN 'counts'
         ELSE 'views' END AS facet,
    s.platform,
    s.arena,
    s.collection_run_id,
    s.hour,
    coalesce(
        s.pseudonymized_author_id,
        CASE WHEN s.author_display_name IS NOT NULL
             THEN 'name:' || s.platform || ':' || s.author_display_name END
    ) AS author_key,
    s.pseudonymized_author_id,
    s.author_display_name,
    s.author_id,
    s.author_platform_id,
    s.terms,
    s.likes_count,
    s.shares_count,
    s.comments_count,
    s.views_count,
    sum(s.sign)::bigint AS records,
    sum(s.sign * s.engagement)::bigint AS engagement,
    CASE WHEN grouping(s.hour) = 0 THEN sum(s.sign)::bigint END AS scope_records
FROM (
    SELECT CAST('0' AS xid) AS hash_only,
           r.sign,
           r.platform,
           r.arena,
           r.collection_run_id,
           date_bin(INTERVAL '1 hour', r.published_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
           r.pseudonymized_author_id,
           r.author_display_name,
           r.author_id,
           r.author_platform_id,
           r.terms,
           r.likes_count,
           r.shares_count,
           r.comments_count,
           r.views_count,
           coalesce(r.likes_count, 0) + coalesce(r.shares_count, 0) + coalesce(r.comments_count, 0)
               AS engagement
    FROM ({{ facet_rows }}) AS r
) AS s
GROUP BY s.hash_only, s.platform, GROUPING SETS (
    (s.arena, s.collection_run_id, s.hour),
    (s.pseudonymized_author_id, s.author_display_name, s.author_id, s.author_platform_id, s.terms),
    (s.likes_count, s.shares_count, s.comments_count),
    (s.views_count)
)
