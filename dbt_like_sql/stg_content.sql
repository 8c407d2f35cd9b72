-- The design's records (its links, see _scope_records.sql) after the shared filters, folded in ONE
-- pass over content_records into small facets that every other model reads instead of the
-- records (no text, no per-record rows):
--   facet 'volume': records per (platform, arena, collection run, UTC hour); the run is the
--                   design's run that first collected the record, or the filtered run;
--   facet 'author': records and summed engagement per (platform, author identity, the terms
--                   of this design the record matched); author_key = the pseudonym, else the platform-qualified
--                   display name, NULL when both are missing (left out of actor statistics);
--   facet 'counts': records per (platform, likes, shares, comments) — engagement histograms;
--   facet 'views':  records per (platform, views).
-- Hours are exact building blocks of every granularity (hour, day, week, month in UTC).
-- hash_only (an xid, hashable but not sortable) makes the planner hash every grouping set in
-- the one pass instead of sorting the records once per set; hashing spills to disk if a set
-- outgrows work_mem, so memory stays bounded.
-- scope_records counts each record once (in its volume cell): the model's count is its sum.
-- params: query_design_id, collection_run_id, arenas, platforms, date_from, date_to_exclusive, languages, terms
-- depends_on:
-- returns: count
-- count_column: scope_records
-- analyze: facet, author_key, platform
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
    count(*)::bigint AS records,
    sum(s.engagement)::bigint AS engagement,
    CASE WHEN grouping(s.hour) = 0 THEN count(*)::bigint END AS scope_records
FROM (
    SELECT CAST('0' AS xid) AS hash_only,
           c.platform,
           c.arena,
           coalesce(CAST(:collection_run_id AS uuid), l.first_collection_run_id)
               AS collection_run_id,
           date_bin(INTERVAL '1 hour', c.published_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
           c.pseudonymized_author_id,
           c.author_display_name,
           c.author_id,
           c.author_platform_id,
           l.search_terms_matched AS terms,
           c.likes_count,
           c.shares_count,
           c.comments_count,
           c.views_count,
           coalesce(c.likes_count, 0) + coalesce(c.shares_count, 0) + coalesce(c.comments_count, 0)
               AS engagement
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
) AS s
GROUP BY s.hash_only, s.platform, GROUPING SETS (
    (s.arena, s.collection_run_id, s.hour),
    (s.pseudonymized_author_id, s.author_display_name, s.author_id, s.author_platform_id, s.terms),
    (s.likes_count, s.shares_count, s.comments_count),
    (s.views_count)
)
