-- One task, or (with :id NULL) every unfinished task of :run_id, -> failed with a message.
UPDATE collection_tasks
SET status = 'failed', completed_at = now(), error_message = :message
WHERE status = ANY(CAST(:from_states AS text[]))
  AND (id = CAST(:id AS uuid) OR (CAST(:id AS uuid) IS NULL AND collection_run_id = CAST(:run_id AS uuid)))
RETURNING id
