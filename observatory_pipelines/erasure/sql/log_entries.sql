-- Log rows as reported (CLI, mirror, reanalysis sensor); newest first.
SELECT id, erased_at, completed_at, requested_by, request_reference, identified_by, status,
       rows_deleted, rows_by_partition, affected_design_ids::text[] AS affected_design_ids,
       object_keys_deleted, outputs_error
FROM erasure_log
WHERE (CAST(:status AS text) IS NULL OR status = :status)
  AND (CAST(:since AS timestamptz) IS NULL OR coalesce(completed_at, erased_at) >= :since)
  AND (CAST(:log_id AS bigint) IS NULL OR id = :log_id)
ORDER BY id DESC;
