-- The design's records after the shared filters, narrowed to what the models read (no text),
-- so every downstream model scans a small temp table instead of content_records.
-- author_key: the pseudonym, else the platform-qualified display name; NULL when both are
-- missing, and NULL authors are left out of every actor statistic and network (no "unknown" hub).
-- Terms are de-duplicated per record (cheap cases first: most records match one or two terms),
-- so counts over unnest(terms) count records.
-- params: query_design_id, collection_run_id, arenas, platforms, date_from, date_to_exclusive, languages, terms
-- depends_on:
-- returns: count
-- analyze: author_key, platform, arena, collection_run_id
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
    CASE WHEN cardinality(c.search_terms_matched) IS NULL THEN '{}'
         WHEN cardinality(c.search_terms_matched) <= 1 THEN c.search_terms_matched
         WHEN cardinality(c.search_terms_matched) = 2
              AND c.search_terms_matched[1] <> c.search_terms_matched[2]
              THEN c.search_terms_matched
         ELSE ARRAY(SELECT DISTINCT t FROM unnest(c.search_terms_matched) AS u(t)
                    WHERE t IS NOT NULL)
    END AS terms,
    c.collection_run_id
FROM content_records AS c
WHERE {{ scope_where }}
