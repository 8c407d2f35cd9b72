-- The file-managed design of a name (case-insensitive; at most one, uq_query_designs_file_name).
SELECT id, owner_id, source_file, source_hash, collection_fingerprint, is_active
FROM query_designs
WHERE source_file IS NOT NULL
  AND lower(name) = lower(:name)
FOR UPDATE
