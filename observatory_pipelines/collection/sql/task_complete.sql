-- running -> completed with the task's own cost (written before the ledger is told).
UPDATE collection_tasks
SET status = 'completed', completed_at = now(), credits_spent = :spent
WHERE id = CAST(:id AS uuid) AND status = ANY(CAST(:from_states AS text[]))
RETURNING collection_run_id
