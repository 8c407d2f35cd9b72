-- A pending run and its pending tasks, in one statement.
WITH run AS (
    INSERT INTO collection_runs (
        query_design_id, initiated_by, mode, status, tier, date_from, date_to, arenas_config
    )
    VALUES (
        CAST(:design AS uuid), CAST(:owner AS uuid), :mode, 'pending', :tier, :date_from,
        :date_to, CAST(:config AS jsonb)
    )
    RETURNING id
), tasks AS (
    INSERT INTO collection_tasks (collection_run_id, arena, platform, status, dagster_run_id)
    SELECT run.id, t.arena, t.platform, 'pending', :dagster_run_id
    FROM run, jsonb_to_recordset(CAST(:tasks AS jsonb)) AS t(platform text, arena text)
)
SELECT id FROM run
