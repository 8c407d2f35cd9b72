-- What the ledger really charged a completed task, when it charged less than the task's cost
-- (the user ran out of credits: the remainder is an 'uncharged' ledger row).
UPDATE collection_tasks
SET credits_spent = :charged
WHERE id = CAST(:id AS uuid) AND status = 'completed'
RETURNING collection_run_id
