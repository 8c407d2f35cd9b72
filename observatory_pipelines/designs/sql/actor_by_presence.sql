-- The actor an account belongs to: by platform user id when the file gives one, else by username.
SELECT actor_id
FROM actor_platform_presences
WHERE platform = CAST(:platform AS varchar)
  AND (
      (CAST(:user_id AS varchar) IS NOT NULL AND platform_user_id = CAST(:user_id AS varchar))
      OR (
          CAST(:user_id AS varchar) IS NULL
          AND lower(platform_username) = lower(CAST(:username AS varchar))
      )
  )
LIMIT 1
