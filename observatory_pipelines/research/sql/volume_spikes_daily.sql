-- Records per Copenhagen day of the design in the scope, per platform and per matched search
-- term, in one scan: the records are first counted per (platform, day, matched terms), a few
-- thousand groups at 1 M records, and only those groups' term lists are unnested (a term
-- counts its (record, term) rows, as the descriptive top_terms does; a record without terms
-- counts for its platform only). Unnesting every record's list before one grouping-sets
-- aggregate was 2.2 M rows sorted (and spilled) for the terms at 1 M.
WITH per_day AS (
    SELECT c.platform,
           (c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS day,
           l.search_terms_matched AS terms,
           count(*) AS records
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
      AND c.published_at >= CAST(:complete_from AS timestamptz)
      AND c.published_at < CAST(:complete_to AS timestamptz)
    GROUP BY 1, 2, 3
)
SELECT 'platform' AS scope, platform AS value, day, sum(records)::bigint AS records
FROM per_day
GROUP BY platform, day
UNION ALL
SELECT 'term', u.term, p.day, sum(p.records)::bigint
FROM per_day AS p
CROSS JOIN LATERAL unnest(p.terms) AS u(term)
WHERE u.term IS NOT NULL
GROUP BY u.term, p.day
ORDER BY 1, 2, 3
