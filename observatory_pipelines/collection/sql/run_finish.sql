UPDATE collection_runs
SET status = :status,
    completed_at = now(),
    credits_spent = :spent,
    records_collected = :collected,
    error_log = :error
WHERE id = CAST(:id AS uuid)
