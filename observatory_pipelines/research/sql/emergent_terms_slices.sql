-- Records and kept tokens per calendar slice (the ISO week's Monday or the month's first day,
-- Europe/Copenhagen) of the design's records in the scope, summed from the temp table
-- emergent_grams (emergent_terms_grams.sql: each record counted once, on its first term's
-- row; token_count counts its kept unigrams, search terms included, as the reference sizes
-- of the keyness need).
SELECT slice, sum(tokens)::bigint AS tokens, sum(records)::bigint AS records
FROM emergent_grams
GROUP BY slice
