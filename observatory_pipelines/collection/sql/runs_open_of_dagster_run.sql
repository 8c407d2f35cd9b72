-- Collection runs still pending/running that one Dagster run worked on (any of their tasks
-- records it), with every Dagster run id of their tasks and their last sign of life, as in
-- runs_open.sql.
SELECT r.id AS collection_run_id,
       r.status,
       COALESCE(
           array_agg(DISTINCT t.dagster_run_id) FILTER (WHERE t.dagster_run_id IS NOT NULL),
           ARRAY[]::text[]
       ) AS dagster_run_ids,
       GREATEST(
           r.created_at, r.started_at, r.completed_at, max(t.started_at), max(t.completed_at),
           max(t.heartbeat_at),
           (SELECT max(c.created_at) FROM credit_transactions AS c WHERE c.collection_run_id = r.id)
       ) AS last_activity
FROM collection_runs AS r
JOIN collection_tasks AS t ON t.collection_run_id = r.id
WHERE r.status IN ('pending', 'running')
  AND r.id IN (
      SELECT collection_run_id FROM collection_tasks WHERE dagster_run_id = :dagster_run_id
  )
GROUP BY r.id, r.status
ORDER BY r.id
