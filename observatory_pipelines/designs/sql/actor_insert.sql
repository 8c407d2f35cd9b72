INSERT INTO actors (canonical_name, actor_type, created_by)
VALUES (:name, :actor_type, CAST(:owner_id AS uuid))
RETURNING id
