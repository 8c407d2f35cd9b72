-- Records folded per (author, set of matched terms): every term statistic and network is then
-- computed over these few rows instead of unnesting every record. author_key may be NULL here
-- (term statistics count every record); actor models drop NULL authors.
-- depends_on: stg_content
-- analyze: author_key
SELECT s.author_key, s.terms, count(*)::bigint AS records
FROM stg_content AS s
WHERE cardinality(s.terms) > 0
GROUP BY s.author_key, s.terms
