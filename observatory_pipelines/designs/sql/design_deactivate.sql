-- Deactivated by command: a file-managed design keeps its hash, so its unchanged file stays a
-- no-op (the design stays off) until the file is edited.
UPDATE query_designs
SET is_active = false,
    updated_at = now()
WHERE lower(name) = lower(:name)
  AND is_active
RETURNING id
