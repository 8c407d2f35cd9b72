-- Collection runs still pending/running, with their tasks' Dagster run ids and the last sign of
-- life anywhere in the run: its creation, run or task start/end, a task's heartbeat (set on
-- every page it stores), a ledger write. GREATEST skips NULLs.
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
LEFT JOIN collection_tasks AS t ON t.collection_run_id = r.id
WHERE r.status IN ('pending', 'running')
GROUP BY r.id, r.status
ORDER BY last_activity NULLS FIRST, r.id
