-- The output objects are gone: the erasure is complete.
UPDATE erasure_log
SET status = 'completed',
    completed_at = now(),
    object_keys_deleted = object_keys_deleted || CAST(:keys AS text[]),
    outputs_error = NULL
WHERE id = :log_id
RETURNING completed_at;
