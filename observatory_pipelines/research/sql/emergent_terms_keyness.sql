-- Keyness of every term of each slice against the previous :reference_slices calendar slices
-- (research/emergent_terms.py fills the temp tables emergent_counts (slice, term, freq, docs:
-- one row per pair, search terms removed) and emergent_slices (slice, tokens, records)).
--   G² (Rayson & Garside): a = freq in the slice, b = freq in the reference, c, d = tokens
--   of the slice and of the reference; E1 = c(a+b)/(c+d), E2 = d(a+b)/(c+d);
--   G² = 2 (a ln(a/E1) + b ln(b/E2)), 0 ln 0 = 0.
--   log_ratio (Hardie) = log2((a/c) / (b/d)), b = 0 counted as 0.5.
--   tfidf: slices as documents, scikit-learn's default (smooth idf, l2 norm per slice):
--   idf = ln((1 + n) / (1 + df)) + 1, n = slices, df = slices holding the term.
--   is_new: the term occurs in no earlier slice of the scope.
-- Ranked: terms over-represented in the slice (a/c > b/d) in at least :min_docs records, in
-- slices whose reference holds tokens; rank by G², then term. prev_rank = the rank in the
-- calendar slice before (NULL when not ranked there).
WITH sizes AS (
    SELECT s.slice, s.tokens, s.records,
           coalesce(sum(s.tokens) OVER (
               ORDER BY s.slice
               RANGE BETWEEN CAST(:reference_span AS interval) PRECEDING AND CURRENT ROW
           ) - s.tokens, 0) AS ref_tokens,
           count(*) OVER () AS slices
    FROM emergent_slices AS s
),
scored AS (
    SELECT t.slice, t.term, t.freq, t.docs,
           sum(t.freq) OVER (
               PARTITION BY t.term ORDER BY t.slice
               RANGE BETWEEN CAST(:reference_span AS interval) PRECEDING AND CURRENT ROW
           ) - t.freq AS ref_freq,
           row_number() OVER (PARTITION BY t.term ORDER BY t.slice) = 1 AS is_new,
           t.freq * (ln((1.0 + z.slices) / (1.0 + count(*) OVER (PARTITION BY t.term))) + 1)
               AS weight,
           z.tokens, z.ref_tokens
    FROM emergent_counts AS t
    JOIN sizes AS z ON z.slice = t.slice
),
normed AS (
    SELECT *, weight / sqrt(sum(weight * weight) OVER (PARTITION BY slice)) AS tfidf
    FROM scored
),
candidates AS (
    SELECT n.*,
           (n.freq + n.ref_freq)::float8 AS total,
           (n.tokens + n.ref_tokens)::float8 AS size
    FROM normed AS n
    WHERE n.ref_tokens > 0 AND n.docs >= CAST(:min_docs AS integer)
      AND n.freq::float8 / n.tokens > n.ref_freq::float8 / n.ref_tokens
),
ranked AS (
    SELECT c.slice, c.term, c.freq, c.docs, c.ref_freq, c.is_new, c.tfidf,
           2 * (c.freq * ln(c.freq / (c.tokens * c.total / c.size))
                + CASE WHEN c.ref_freq > 0
                       THEN c.ref_freq * ln(c.ref_freq / (c.ref_tokens * c.total / c.size))
                       ELSE 0 END) AS keyness_g2,
           ln((c.freq::float8 / c.tokens)
              / (greatest(c.ref_freq, 0.5) / c.ref_tokens)) / ln(2) AS log_ratio
    FROM candidates AS c
),
numbered AS (
    SELECT r.*, row_number() OVER (PARTITION BY r.slice ORDER BY r.keyness_g2 DESC, r.term)
               AS rank
    FROM ranked AS r
)
SELECT n.slice AS period_start,
       n.term, n.freq, n.docs AS doc_freq, n.ref_freq,
       round(n.keyness_g2::numeric, 4)::float8 AS keyness_g2,
       round(n.log_ratio::numeric, 4)::float8 AS log_ratio,
       round(n.tfidf::numeric, 6)::float8 AS tfidf,
       n.rank, p.rank AS prev_rank, p.rank - n.rank AS rank_change, n.is_new
FROM numbered AS n
LEFT JOIN numbered AS p
       ON p.term = n.term AND p.slice = n.slice - CAST(:slice_step AS interval)
WHERE n.rank <= CAST(:top_terms AS integer)
ORDER BY n.slice, n.rank
