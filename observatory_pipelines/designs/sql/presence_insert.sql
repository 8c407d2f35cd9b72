-- An account not yet known; one already known (same platform user id) keeps its actor.
INSERT INTO actor_platform_presences (actor_id, platform, platform_user_id, platform_username)
SELECT CAST(:actor_id AS uuid), CAST(:platform AS varchar), CAST(:user_id AS varchar),
       CAST(:username AS varchar)
WHERE NOT EXISTS (
    SELECT 1
    FROM actor_platform_presences
    WHERE actor_id = CAST(:actor_id AS uuid)
      AND platform = CAST(:platform AS varchar)
      AND platform_user_id IS NOT DISTINCT FROM CAST(:user_id AS varchar)
      AND platform_username IS NOT DISTINCT FROM CAST(:username AS varchar)
)
ON CONFLICT (platform, platform_user_id) DO NOTHING
