-- Some output objects could not be deleted: keep what was, say why, stay pending.
UPDATE erasure_log
SET object_keys_deleted = object_keys_deleted || CAST(:keys AS text[]),
    outputs_error = :error
WHERE id = :log_id;
