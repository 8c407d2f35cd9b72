-- Per (slice, term): occurrences (freq) and records holding it (docs), from the temp table
-- emergent_grams (emergent_terms_grams.sql), the design's search terms removed (the same
-- verdict for every row of a term): a one-word search term removes its unigram and every
-- bigram holding it, a two-word one its bigram (enrichments/tokens.py SearchTermFilter;
-- :excluded_words, :excluded_pairs).
SELECT g.slice, g.term, g.freq, g.docs
FROM emergent_grams AS g
WHERE g.term IS NOT NULL
  AND g.term <> ALL (CAST(:excluded_words AS text[]))
  AND g.term <> ALL (CAST(:excluded_pairs AS text[]))
  AND (strpos(g.term, ' ') = 0
       OR (split_part(g.term, ' ', 1) <> ALL (CAST(:excluded_words AS text[]))
           AND split_part(g.term, ' ', 2) <> ALL (CAST(:excluded_words AS text[]))))
