-- Signs of life for the sweep that fails runs whose worker died (issue 13.11):
--   * collection_tasks.heartbeat_at: set on every page a task stores, so a long-running task
--     that is still working is never mistaken for a dead one;
--   * collection_runs.created_at: a pending run that never started has an age too.
ALTER TABLE collection_tasks ADD COLUMN heartbeat_at timestamptz;

ALTER TABLE collection_runs ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- Existing runs: their earliest known time; runs with none keep the migration's time.
UPDATE collection_runs
SET created_at = LEAST(started_at, completed_at)
WHERE started_at IS NOT NULL OR completed_at IS NOT NULL;

-- A run's counters are the sums of its tasks' (issue 13.12); runs written before this held
-- whatever the worker last reported, or 0.
UPDATE collection_runs AS r
SET records_collected = t.records_collected, credits_spent = t.credits_spent
FROM (
    SELECT collection_run_id,
           COALESCE(sum(records_collected), 0) AS records_collected,
           COALESCE(sum(credits_spent), 0) AS credits_spent
    FROM collection_tasks
    GROUP BY collection_run_id
) AS t
WHERE t.collection_run_id = r.id;
