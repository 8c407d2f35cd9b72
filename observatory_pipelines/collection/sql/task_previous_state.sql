-- The saved state of the newest earlier task of the same design and platform that holds one
-- of the given keys (a paid asynchronous job it started: Bright Data snapshots), and whether
-- that task completed. Another design's tasks are never read: their inputs are other inputs.
SELECT t.rate_limit_state, t.status = 'completed' AS completed
FROM collection_tasks AS t
JOIN collection_runs AS r ON r.id = t.collection_run_id
WHERE r.query_design_id = CAST(:query_design_id AS uuid)
  AND t.platform = :platform
  AND t.id <> CAST(:task_id AS uuid)
  AND t.rate_limit_state ?| CAST(:keys AS text[])
ORDER BY t.started_at DESC NULLS LAST, r.started_at DESC NULLS LAST
LIMIT 1
