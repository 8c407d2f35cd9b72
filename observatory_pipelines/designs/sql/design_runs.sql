SELECT id, status, mode, date_from, date_to, created_at, completed_at, records_collected,
       records_attributed, credits_spent, estimated_credits, error_log
FROM collection_runs
WHERE query_design_id = CAST(:id AS uuid)
ORDER BY created_at DESC, id
LIMIT :limit
