-- Designs synced from files under a folder whose file is gone: deactivated (their data stays).
-- The hash is forgotten so that the same file put back applies again (and reactivates it).
UPDATE query_designs
SET is_active = false,
    source_hash = NULL,
    updated_at = now()
WHERE source_file LIKE :folder_prefix ESCAPE '\'
  AND NOT (source_file = ANY(CAST(:present AS text[])))
  AND (is_active OR source_hash IS NOT NULL)
RETURNING name
