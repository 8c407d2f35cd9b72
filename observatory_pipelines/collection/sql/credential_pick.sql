-- The next credential to use: active, quota not exhausted (or reset since), fewest errors,
-- least recently used. SKIP LOCKED keeps concurrent tasks from taking the same row at once.
SELECT id, credential_name, credentials
FROM api_credentials
WHERE platform = :platform
  AND is_active
  AND (CAST(:tier AS text) IS NULL OR tier = :tier)
  AND (quota_reset_at IS NULL OR quota_reset_at <= now())
  AND NOT (id::text = ANY(CAST(:exclude AS text[])))
ORDER BY error_count, last_used_at NULLS FIRST, created_at
LIMIT 1
FOR UPDATE SKIP LOCKED
