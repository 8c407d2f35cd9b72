INSERT INTO actor_lists (query_design_id, name, description, created_by, sampling_method)
VALUES (CAST(:id AS uuid), :name, :description, CAST(:owner_id AS uuid), :sampling_method)
RETURNING id
