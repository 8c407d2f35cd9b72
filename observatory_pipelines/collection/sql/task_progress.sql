UPDATE collection_tasks
SET records_collected = :collected,
    duplicates_skipped = :duplicates,
    records_rejected = :rejected,
    credential_id = CAST(:credential_id AS uuid),
    rate_limit_state = CAST(:state AS jsonb)
WHERE id = CAST(:id AS uuid)
