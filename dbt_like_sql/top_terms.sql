-- Search terms by the number of records that matched them.
-- params: top_limit
-- depends_on: term_sets
-- order_by: count DESC, term
SELECT u.term, sum(ts.records)::bigint AS count
FROM term_sets AS ts
CROSS JOIN LATERAL unnest(ts.terms) AS u(term)
GROUP BY u.term
ORDER BY count DESC, u.term
LIMIT CAST(:top_limit AS integer)
