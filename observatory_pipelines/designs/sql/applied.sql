-- What each design file was when last applied: a file with the same bytes is skipped unparsed.
SELECT source_file, name, source_hash
FROM query_designs
WHERE source_file IS NOT NULL
  AND source_hash IS NOT NULL
