-- A run with its tasks (one row per task; one row with NULL task_id when it has none).
SELECT r.id, r.query_design_id, r.initiated_by, r.mode, r.status, r.tier, r.date_from,
       r.date_to, r.arenas_config, t.id AS task_id, t.platform, t.arena, t.rate_limit_state
FROM collection_runs AS r
LEFT JOIN collection_tasks AS t ON t.collection_run_id = r.id
WHERE r.id = CAST(:id AS uuid)
ORDER BY t.platform
