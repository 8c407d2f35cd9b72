-- pending -> running, recording which Dagster run works on it.
UPDATE collection_tasks
SET status = 'running', started_at = now(), dagster_run_id = COALESCE(:dagster_run_id, dagster_run_id)
WHERE id = CAST(:id AS uuid) AND status = ANY(CAST(:from_states AS text[]))
RETURNING id
