-- Records per Copenhagen day of the design in the scope, per platform and per matched search
-- term, in one scan: grouping sets over the records with their terms unnested (a record
-- without terms keeps one row, ordinality NULL, so it counts once for its platform; a term
-- counts its (record, term) rows, as the descriptive top_terms does).
SELECT CASE WHEN grouping(c.platform) = 0 THEN 'platform' ELSE 'term' END AS scope,
       coalesce(c.platform, u.term) AS value,
       (c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS day,
       CASE WHEN grouping(c.platform) = 0
            THEN count(*) FILTER (WHERE u.ord IS NULL OR u.ord = 1)
            ELSE count(*) END AS records
FROM {{ scope_records }}
LEFT JOIN LATERAL unnest(l.search_terms_matched) WITH ORDINALITY AS u(term, ord) ON true
WHERE {{ scope_where }}
  AND c.published_at >= CAST(:complete_from AS timestamptz)
  AND c.published_at < CAST(:complete_to AS timestamptz)
GROUP BY GROUPING SETS ((c.platform, 3), (u.term, 3))
HAVING grouping(c.platform) = 0 OR u.term IS NOT NULL
ORDER BY 1, 2, 3
