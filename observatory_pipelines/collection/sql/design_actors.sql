SELECT DISTINCT p.platform_user_id, p.platform_username, p.actor_id
FROM actor_lists AS l
JOIN actor_list_members AS m ON m.actor_list_id = l.id
JOIN actor_platform_presences AS p ON p.actor_id = m.actor_id AND p.platform = :platform
WHERE l.query_design_id = CAST(:id AS uuid)
ORDER BY p.platform_user_id
