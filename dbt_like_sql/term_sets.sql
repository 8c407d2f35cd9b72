-- Records folded per (author, set of matched terms): every term statistic and network is then
-- computed over these few rows instead of unnesting every record. Terms are de-duplicated per
-- record (cheap cases first: most records match one or two terms), so counts over
-- unnest(terms) count records. author_key may be NULL here (term statistics count every
-- record); actor models drop NULL authors.
-- depends_on: stg_content
-- analyze: author_key
-- order_by: author_key, terms
-- returns: stream
SELECT s.author_key, d.terms, sum(s.records)::bigint AS records
FROM stg_content AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN cardinality(s.terms) IS NULL THEN '{}'
                WHEN cardinality(s.terms) <= 1 THEN s.terms
                WHEN cardinality(s.terms) = 2 AND s.terms[1] <> s.terms[2] THEN s.terms
                ELSE ARRAY(SELECT DISTINCT t FROM unnest(s.terms) AS u(t) WHERE t IS NOT NULL)
           END AS terms
    OFFSET 0  -- kept a subquery: flattened, the planner computed the CASE twice a row
) AS d
WHERE s.facet = 'author' AND cardinality(d.terms) > 0
GROUP BY s.author_key, d.terms
