-- The design a file defined before (under another name): its rename. One per file (the newest,
-- should older syncs have left more).
SELECT id, owner_id, source_file, source_hash, collection_fingerprint, is_active
FROM query_designs
WHERE source_file = :source_file
ORDER BY created_at DESC
LIMIT 1
FOR UPDATE
