INSERT INTO actor_list_members (actor_list_id, actor_id, added_by)
VALUES (CAST(:list_id AS uuid), CAST(:actor_id AS uuid), 'design_file')
ON CONFLICT DO NOTHING
