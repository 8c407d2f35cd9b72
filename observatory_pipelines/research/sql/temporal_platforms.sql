-- Platforms of the scope side by side: records, distinct authors and matched terms, first and
-- last publication, the median engagement percentile within platform and month
-- (enrichment_engagement_pct; records without counts left out), the share of records with at
-- least one link (enrichment_url_records; a record not yet enriched counts as without), and
-- the language mix (the record's language, else the detected one; base code; 'und' unknown).
WITH records AS (
    SELECT c.id, c.published_at, c.platform, {{ temporal_author_key }} AS author_key,
           l.search_terms_matched AS terms,
           coalesce(split_part(lower(coalesce(c.language,
                                              c.raw_metadata ->> 'detected_language')), '-', 1),
                    'und') AS language
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
),
base AS (
    SELECT r.platform, count(*) AS records, count(DISTINCT r.author_key) AS actors,
           min(r.published_at) AS first_published, max(r.published_at) AS last_published,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY e.eng_pct_platform)
               AS median_engagement_pct,
           count(*) FILTER (WHERE u.url_count > 0) AS with_urls
    FROM records AS r
    LEFT JOIN enrichment_engagement_pct AS e
           ON e.record_id = r.id AND e.published_at = r.published_at
    LEFT JOIN enrichment_url_records AS u
           ON u.record_id = r.id AND u.published_at = r.published_at
    GROUP BY r.platform
),
terms AS (
    SELECT r.platform, count(DISTINCT t.term) AS terms
    FROM records AS r CROSS JOIN LATERAL unnest(r.terms) AS t(term)
    GROUP BY r.platform
),
languages AS (
    SELECT platform, jsonb_object_agg(language, records ORDER BY language) AS languages
    FROM (SELECT platform, language, count(*) AS records FROM records
          GROUP BY platform, language) AS x
    GROUP BY platform
)
SELECT b.platform, b.records, b.actors, coalesce(t.terms, 0) AS terms,
       b.first_published, b.last_published,
       round(CAST(b.median_engagement_pct AS numeric), 4)::float8 AS median_engagement_pct,
       round(CAST(b.with_urls AS numeric) / b.records, 4)::float8 AS share_with_urls,
       g.languages
FROM base AS b
LEFT JOIN terms AS t ON t.platform = b.platform
LEFT JOIN languages AS g ON g.platform = b.platform
ORDER BY b.platform
