-- A run's counters are the sums of its tasks' (run in the same transaction as every change to
-- a task's counters or a run's state, so they never drift apart).
UPDATE collection_runs AS r
SET records_collected = s.records_collected,
    records_attributed = s.records_attributed,
    credits_spent = s.credits_spent
FROM (
    SELECT COALESCE(sum(records_collected), 0) AS records_collected,
           COALESCE(sum(records_attributed), 0) AS records_attributed,
           COALESCE(sum(credits_spent), 0) AS credits_spent
    FROM collection_tasks
    WHERE collection_run_id = CAST(:run_id AS uuid)
) AS s
WHERE r.id = CAST(:run_id AS uuid)
