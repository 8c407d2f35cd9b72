-- Mark a dead run failed (only from an allowed state: a run that finished meanwhile is left as
-- it is) with its unfinished tasks. Totals: run_totals.sql, in the same transaction.
WITH run AS (
    UPDATE collection_runs AS r
    SET status = 'failed',
        completed_at = now(),
        error_log = concat_ws(E'\n', r.error_log, CAST(:reason AS text))
    WHERE r.id = CAST(:run_id AS uuid) AND r.status = ANY(CAST(:from_states AS text[]))
    RETURNING r.id
), tasks AS (
    UPDATE collection_tasks AS t
    SET status = 'failed',
        completed_at = now(),
        error_message = concat_ws(E'\n', t.error_message, CAST(:task_reason AS text))
    FROM run
    WHERE t.collection_run_id = run.id AND t.status = ANY(CAST(:task_from_states AS text[]))
    RETURNING t.id
)
SELECT (SELECT count(*) FROM run) AS runs, (SELECT count(*) FROM tasks) AS tasks
