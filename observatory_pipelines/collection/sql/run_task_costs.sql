-- What each completed task of a run recorded as its own cost (the settlement charges that).
SELECT id, arena, platform, credits_spent
FROM collection_tasks
WHERE collection_run_id = CAST(:run_id AS uuid) AND status = 'completed'
