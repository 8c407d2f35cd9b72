SELECT l.name AS list_name, a.canonical_name, p.platform, p.platform_user_id, p.platform_username
FROM actor_lists AS l
LEFT JOIN actor_list_members AS m ON m.actor_list_id = l.id
LEFT JOIN actors AS a ON a.id = m.actor_id
LEFT JOIN actor_platform_presences AS p ON p.actor_id = a.id
WHERE l.query_design_id = CAST(:id AS uuid)
ORDER BY l.name, a.canonical_name, p.platform
