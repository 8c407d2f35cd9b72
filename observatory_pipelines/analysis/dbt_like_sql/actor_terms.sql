-- Records per (author, matched term): the basis of the actor networks.
-- depends_on: stg_content
SELECT s.author_key, u.term, count(*)::bigint AS records
FROM stg_content AS s
CROSS JOIN LATERAL unnest(s.terms) AS u(term)
WHERE s.author_key IS NOT NULL
GROUP BY s.author_key, u.term
