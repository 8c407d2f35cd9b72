-- A task's counters after a page, and its heartbeat while it runs (the sweep judges a run's
-- idleness by it). Counters are saved whatever the status: the rows were stored either way.
UPDATE collection_tasks
SET records_collected = :collected,
    records_attributed = :attributed,
    duplicates_skipped = :duplicates,
    records_rejected = :rejected,
    credential_id = CAST(:credential_id AS uuid),
    rate_limit_state = CAST(:state AS jsonb),
    heartbeat_at = CASE WHEN status = 'running' THEN now() ELSE heartbeat_at END
WHERE id = CAST(:id AS uuid)
RETURNING collection_run_id, status
