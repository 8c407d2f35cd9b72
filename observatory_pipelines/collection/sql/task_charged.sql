-- What the ledger really charged a finished task: a completed task charged less than its
-- cost (the user ran out of credits: the remainder is an 'uncharged' ledger row), or a failed
-- task charged the paid calls it made before it failed.
UPDATE collection_tasks
SET credits_spent = :charged
WHERE id = CAST(:id AS uuid) AND status IN ('completed', 'failed')
RETURNING collection_run_id
