-- Search terms by the number of records that matched them (over the distinct term sets:
-- term_sets has a row per author and set, far more rows than there are sets).
-- params: top_limit
-- depends_on: term_sets
-- order_by: count DESC, term
WITH sets AS (
    SELECT ts.terms, sum(ts.records)::bigint AS records
    FROM term_sets AS ts
    GROUP BY ts.terms
)
SELECT u.term, sum(s.records)::bigint AS count
FROM sets AS s
CROSS JOIN LATERAL unnest(s.terms) AS u(term)
GROUP BY u.term
ORDER BY count DESC, u.term
LIMIT CAST(:top_limit AS integer)
