-- One row per collection run of the design (or just the chosen run): status, duration, credits
-- (the run's settled figure and the ledger's settlements per arena/platform), per-task counts and
-- errors, and how many of the records in scope each run contributed, per arena: a record counts
-- for the design's run that first collected it (stg_content's volume facet), so per-run counts
-- never double-count across runs; with a run filter, every record that run collected counts for
-- it (also the ones an earlier run or another design stored first).
-- params: query_design_id, collection_run_id
-- depends_on: stg_content
-- order_by: started_at NULLS LAST, run_id
SELECT r.id AS run_id,
       r.status,
       r.mode,
       r.tier,
       r.started_at,
       r.completed_at,
       round(extract(epoch FROM r.completed_at - r.started_at)::numeric, 3)::float8
           AS duration_seconds,
       r.estimated_credits,
       r.credits_spent,
       r.records_collected,
       r.records_attributed,
       r.error_log,
       coalesce(tk.tasks, '[]'::jsonb) AS tasks,
       coalesce(tk.failed_tasks, 0) AS failed_tasks,
       coalesce(sc.records_in_scope, 0) AS records_in_scope,
       coalesce(sc.records_by_arena, '{}'::jsonb) AS records_by_arena
FROM collection_runs AS r
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'arena', t.arena,
               'platform', t.platform,
               'status', t.status,
               'records_collected', t.records_collected,
               'records_attributed', t.records_attributed,
               'duplicates_skipped', t.duplicates_skipped,
               'records_rejected', t.records_rejected,
               'error', t.error_message,
               'duration_seconds',
               round(extract(epoch FROM t.completed_at - t.started_at)::numeric, 3)::float8,
               'credits_settled', coalesce((
                   SELECT sum(ct.credits_consumed)
                   FROM credit_transactions AS ct
                   WHERE ct.collection_run_id = r.id AND ct.arena = t.arena
                     AND ct.platform = t.platform AND ct.transaction_type = 'settlement'), 0)
           ) ORDER BY t.arena, t.platform, t.id) AS tasks,
           count(*) FILTER (WHERE t.status = 'failed' OR t.error_message IS NOT NULL)
               AS failed_tasks
    FROM collection_tasks AS t
    WHERE t.collection_run_id = r.id
) AS tk ON true
LEFT JOIN (
    SELECT collection_run_id,
           sum(n)::bigint AS records_in_scope,
           jsonb_object_agg(arena, n) AS records_by_arena
    FROM (SELECT s.collection_run_id, s.arena, sum(s.records)::bigint AS n
          FROM stg_content AS s
          WHERE s.facet = 'volume' AND s.collection_run_id IS NOT NULL
          GROUP BY 1, 2) AS x
    GROUP BY collection_run_id
) AS sc ON sc.collection_run_id = r.id
WHERE r.query_design_id = CAST(:query_design_id AS uuid)
  AND (CAST(:collection_run_id AS uuid) IS NULL OR r.id = CAST(:collection_run_id AS uuid))
