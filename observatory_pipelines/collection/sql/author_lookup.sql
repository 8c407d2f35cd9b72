SELECT platform_user_id, actor_id
FROM actor_platform_presences
WHERE platform = :platform AND platform_user_id = ANY(:ids)
