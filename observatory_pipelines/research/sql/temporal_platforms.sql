-- Platforms of the scope side by side: records, distinct authors and matched terms, first and
-- last publication, the median engagement percentile within platform and month
-- (enrichment_engagement_pct; records without counts left out), the share of records with at
-- least one link (enrichment_url_records; a record not yet enriched counts as without), and
-- the language mix (the record's language, else the detected one; base code; 'und' unknown).
-- Each count is hashed, never a count(DISTINCT) over the records (a sort of every record,
-- spilled at 1 M): authors per platform are the (platform, author) groups, terms the
-- distinct terms of the ~thousands of distinct matched-term sets; only the median sorts,
-- and only the engagement values.
WITH records AS (
    SELECT c.platform,
           {{ temporal_author_key }} AS author_key,
           c.published_at,
           l.search_terms_matched AS terms,
           coalesce(split_part(lower(coalesce(c.language,
                                              c.raw_metadata ->> 'detected_language')), '-', 1),
                    'und') AS language,
           e.eng_pct_platform AS engagement_pct,
           coalesce(u.url_count > 0, false) AS with_urls
    FROM {{ scope_records }}
    LEFT JOIN enrichment_engagement_pct AS e
           ON e.record_id = c.id AND e.published_at = c.published_at
    LEFT JOIN enrichment_url_records AS u
           ON u.record_id = c.id AND u.published_at = c.published_at
    WHERE {{ scope_where }}
),
authors AS (
    SELECT platform, author_key, count(*) AS records,
           min(published_at) AS first_published, max(published_at) AS last_published,
           count(*) FILTER (WHERE with_urls) AS with_urls
    FROM records
    GROUP BY platform, author_key
),
base AS (
    SELECT platform, sum(records)::bigint AS records, count(author_key) AS actors,
           min(first_published) AS first_published, max(last_published) AS last_published,
           sum(with_urls)::bigint AS with_urls
    FROM authors
    GROUP BY platform
),
engagement AS (
    SELECT platform,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY engagement_pct) AS median_engagement_pct
    FROM records
    WHERE engagement_pct IS NOT NULL
    GROUP BY platform
),
terms AS (
    SELECT s.platform, count(DISTINCT t.term) AS terms
    FROM (SELECT DISTINCT platform, terms FROM records) AS s
    CROSS JOIN LATERAL unnest(s.terms) AS t(term)
    GROUP BY s.platform
),
languages AS (
    SELECT platform, jsonb_object_agg(language, records ORDER BY language) AS languages
    FROM (SELECT platform, language, count(*) AS records FROM records
          GROUP BY platform, language) AS x
    GROUP BY platform
)
SELECT b.platform, b.records, b.actors, coalesce(t.terms, 0) AS terms,
       b.first_published, b.last_published,
       round(CAST(m.median_engagement_pct AS numeric), 4)::float8 AS median_engagement_pct,
       round(CAST(b.with_urls AS numeric) / b.records, 4)::float8 AS share_with_urls,
       g.languages
FROM base AS b
LEFT JOIN engagement AS m ON m.platform = b.platform
LEFT JOIN terms AS t ON t.platform = b.platform
LEFT JOIN languages AS g ON g.platform = b.platform
ORDER BY b.platform
