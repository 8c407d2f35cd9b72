-- Per (slice, term) of the design's records in the scope, from their stored n-grams
-- (enrichment record_terms): occurrences (freq) and records holding it (docs: a record's
-- stored terms are distinct, so each unnested row is one record), in one pass that also
-- gives the slices' sizes: each record's first term (or its NULL-term row, when it kept no
-- n-gram) carries its token_count and counts it once, so summing tokens and records over a
-- slice's rows gives the slice's kept tokens and records (emergent_terms_slices.sql).
-- The slice is computed once per record in the subquery (OFFSET 0 keeps it there): left to
-- the grouping it is evaluated for every unnested (record, term) row, and a time-zone
-- conversion per row was most of the cost (4.2 -> 1.0-1.5 s over 990,000 rows at 100 k).
SELECT r.slice,
       u.term,
       sum(u.n)::bigint AS freq,
       count(u.term)::bigint AS docs,
       coalesce(sum(r.token_count) FILTER (WHERE u.ord IS NULL OR u.ord = 1), 0)::bigint
           AS tokens,
       count(*) FILTER (WHERE u.ord IS NULL OR u.ord = 1) AS records
FROM (
    SELECT date_trunc(CAST(:period AS text),
                      c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS slice,
           t.token_count,
           t.terms,
           t.counts
    FROM {{ scope_records }}
    -- the record key matched as in _scope_records.sql, so the join is estimated right
    JOIN enrichment_terms AS t
      ON t.record_id = c.id AND (CASE WHEN t.published_at = c.published_at THEN 1 END) IS NOT NULL
    WHERE {{ scope_where }}
    OFFSET 0
) AS r
LEFT JOIN LATERAL unnest(r.terms, r.counts) WITH ORDINALITY AS u(term, n, ord) ON true
GROUP BY r.slice, u.term
