SELECT status FROM collection_runs WHERE id = CAST(:id AS uuid)
