-- Records and kept tokens per calendar slice (the ISO week's Monday or the month's first day,
-- Europe/Copenhagen) of the design's records in the scope, from their stored n-grams
-- (enrichment record_terms: one row per record, token_count counts its kept unigrams,
-- search terms included, as the reference sizes of the keyness need).
SELECT date_trunc(CAST(:period AS text),
                  c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS slice,
       sum(t.token_count)::bigint AS tokens,
       count(*) AS records
FROM {{ scope_records }}
JOIN enrichment_terms AS t ON t.record_id = c.id AND t.published_at = c.published_at
WHERE {{ scope_where }}
GROUP BY 1
