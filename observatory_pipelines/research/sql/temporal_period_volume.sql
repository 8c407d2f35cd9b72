-- Records of the previous period [:previous_from, :current_from) and the current one
-- [:current_from, :current_to) in total, per platform, per arena and per matched term, in one
-- scan (a record's terms unnested; ordinality NULL or 1 counts the record once).
SELECT CASE WHEN grouping(c.platform) = 0 THEN 'platform'
            WHEN grouping(c.arena) = 0 THEN 'arena'
            WHEN grouping(u.term) = 0 THEN 'term'
            ELSE 'total' END AS scope,
       coalesce(c.platform, c.arena, u.term, 'all') AS value,
       CASE WHEN c.published_at < CAST(:current_from AS timestamptz)
            THEN 'previous' ELSE 'current' END AS period,
       CASE WHEN grouping(u.term) = 0 THEN count(*)
            ELSE count(*) FILTER (WHERE u.ord IS NULL OR u.ord = 1) END AS records
FROM {{ scope_records }}
LEFT JOIN LATERAL unnest(l.search_terms_matched) WITH ORDINALITY AS u(term, ord) ON true
WHERE {{ scope_where }}
  AND c.published_at >= CAST(:previous_from AS timestamptz)
  AND c.published_at < CAST(:current_to AS timestamptz)
GROUP BY GROUPING SETS ((3), (3, c.platform), (3, c.arena), (3, u.term))
HAVING grouping(u.term) = 1 OR u.term IS NOT NULL
ORDER BY 1, 2, 3
