-- A query design named by id or by exact name (names are not unique: callers refuse two).
SELECT d.id, d.name, d.owner_id, u.email AS owner_email, d.is_active, d.default_tier
FROM query_designs AS d
LEFT JOIN users AS u ON u.id = d.owner_id
WHERE d.id::text = lower(:ref) OR d.name = :ref
ORDER BY d.created_at, d.id
