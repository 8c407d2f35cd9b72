-- Per (slice, term): occurrences (freq) and records holding it (docs: the stored counts are
-- per record, so each row is one record) of the design's records in the scope, from their
-- stored n-grams (enrichment record_terms). The design's search terms are removed after the
-- grouping (the same verdict for every row of a term): a one-word search term removes its
-- unigram and every bigram holding it, a two-word one its bigram (enrichments/tokens.py
-- SearchTermFilter; :excluded_words, :excluded_pairs).
SELECT g.slice, g.term, g.freq, g.docs
FROM (
    SELECT date_trunc(CAST(:period AS text),
                      c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS slice,
           u.term, sum(u.n)::bigint AS freq, count(*)::bigint AS docs
    FROM {{ scope_records }}
    JOIN enrichment_terms AS t ON t.record_id = c.id AND t.published_at = c.published_at
    CROSS JOIN LATERAL unnest(t.terms, t.counts) AS u(term, n)
    WHERE {{ scope_where }}
    GROUP BY 1, 2
) AS g
WHERE g.term <> ALL (CAST(:excluded_words AS text[]))
  AND g.term <> ALL (CAST(:excluded_pairs AS text[]))
  AND (strpos(g.term, ' ') = 0
       OR (split_part(g.term, ' ', 1) <> ALL (CAST(:excluded_words AS text[]))
           AND split_part(g.term, ' ', 2) <> ALL (CAST(:excluded_words AS text[]))))
