-- The run's end, only from an allowed state: a run already failed by the sweep (its worker
-- declared dead) is never reopened as completed by a late worker. Totals: run_totals.sql.
UPDATE collection_runs
SET status = :status,
    completed_at = now(),
    error_log = :error
WHERE id = CAST(:id AS uuid) AND status = ANY(CAST(:from_states AS text[]))
RETURNING id AS collection_run_id
