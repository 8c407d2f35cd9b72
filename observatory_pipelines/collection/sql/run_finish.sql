-- The run's end with its totals, only from an allowed state: a run already failed by the
-- sweep (its worker declared dead) is never reopened as completed by a late worker.
UPDATE collection_runs
SET status = :status,
    completed_at = now(),
    credits_spent = :spent,
    records_collected = :collected,
    error_log = :error
WHERE id = CAST(:id AS uuid) AND status = ANY(CAST(:from_states AS text[]))
RETURNING id
