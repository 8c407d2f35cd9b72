-- Fragment (not a query): the scope's records, their author identity and the design's terms
-- they matched, as the CTE "scoped" (author_key as in stg_content: the pseudonym, else the
-- platform-qualified display name).
scoped AS (
    SELECT c.id AS record_id,
           c.published_at,
           c.platform,
           coalesce(
               c.pseudonymized_author_id,
               CASE WHEN c.author_display_name IS NOT NULL
                    THEN 'name:' || c.platform || ':' || c.author_display_name END
           ) AS author_key,
           c.author_display_name,
           l.search_terms_matched AS terms
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
)
