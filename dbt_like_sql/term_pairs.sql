-- Term co-occurrence: two terms matched by the same record. weight = the number of distinct
-- records (terms are de-duplicated per record in stg_content; pair key t1 < t2); keep
-- weight >= term_min_weight, top term_edge_limit edges. frequency = records matching the term.
-- Computed over the distinct term sets (term_sets has a row per author and set).
-- params: term_min_weight, term_edge_limit
-- depends_on: term_sets
-- order_by: weight DESC, source, target
WITH sets AS (
    SELECT ts.terms, sum(ts.records)::bigint AS records
    FROM term_sets AS ts
    GROUP BY ts.terms
),
frequency AS (
    SELECT u.term, sum(s.records)::bigint AS frequency
    FROM sets AS s
    CROSS JOIN LATERAL unnest(s.terms) AS u(term)
    GROUP BY u.term
),
pairs AS (
    SELECT t1.term AS source, t2.term AS target, sum(s.records)::bigint AS weight
    FROM sets AS s
    CROSS JOIN LATERAL unnest(s.terms) AS t1(term)
    CROSS JOIN LATERAL unnest(s.terms) AS t2(term)
    WHERE cardinality(s.terms) > 1 AND t1.term < t2.term COLLATE "C"
    GROUP BY 1, 2
    HAVING sum(s.records) >= CAST(:term_min_weight AS integer)
    ORDER BY weight DESC, source, target
    LIMIT CAST(:term_edge_limit AS integer)
)
SELECT p.source, p.target, p.weight,
       fs.frequency AS source_frequency, ft.frequency AS target_frequency
FROM pairs AS p
JOIN frequency AS fs ON fs.term = p.source
JOIN frequency AS ft ON ft.term = p.target
