-- pending -> running; no row back when the run is not pending (it was refused or healed).
UPDATE collection_runs
SET status = 'running', started_at = now(), estimated_credits = :estimated
WHERE id = CAST(:id AS uuid) AND status = ANY(CAST(:from_states AS text[]))
RETURNING id
