-- How many of the design's records in the scope have their n-grams stored (enrichment
-- record_terms) and how many not yet: suggestions are computed from the first only.
SELECT count(*) AS records,
       count(*) FILTER (WHERE t.record_id IS NULL) AS without_terms
FROM {{ scope_records }}
LEFT JOIN enrichment_terms AS t ON t.record_id = c.id AND t.published_at = c.published_at
WHERE {{ scope_where }}
