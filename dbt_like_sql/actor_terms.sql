-- Records per (author, matched term): the basis of the actor networks.
-- depends_on: term_sets
-- analyze: author_key, term
-- order_by: author_key, term
-- returns: stream
SELECT ts.author_key, u.term, sum(ts.records)::bigint AS records
FROM term_sets AS ts
CROSS JOIN LATERAL unnest(ts.terms) AS u(term)
WHERE ts.author_key IS NOT NULL
GROUP BY ts.author_key, u.term
