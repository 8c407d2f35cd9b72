-- Search terms by the number of records that matched them.
-- params: top_limit
-- depends_on: stg_content
-- order_by: count DESC, term
SELECT u.term, count(*)::bigint AS count
FROM stg_content AS s
CROSS JOIN LATERAL unnest(s.terms) AS u(term)
GROUP BY u.term
ORDER BY count DESC, u.term
LIMIT CAST(:top_limit AS integer)
