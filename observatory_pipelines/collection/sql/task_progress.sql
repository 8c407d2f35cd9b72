-- A task's counters after a page, its heartbeat while it runs (the sweep judges a run's
-- idleness by it), what the page said about its sources, and the run's totals: one
-- statement, one round trip per page (2,000 feeds are 2,000 pages). Counters are saved
-- whatever the status: the rows were stored either way.
WITH task AS (
    UPDATE collection_tasks
    SET records_collected = :collected,
        records_attributed = :attributed,
        duplicates_skipped = :duplicates,
        records_rejected = :rejected,
        credential_id = CAST(:credential_id AS uuid),
        rate_limit_state = CAST(:state AS jsonb),
        skipped_sources = skipped_sources || CAST(:skipped AS jsonb),
        sources_not_modified = sources_not_modified + :not_modified,
        heartbeat_at = CASE WHEN status = 'running' THEN now() ELSE heartbeat_at END
    WHERE id = CAST(:id AS uuid)
    RETURNING id, collection_run_id, status, records_collected, records_attributed,
              credits_spent
),
-- The statement sees the tasks as they were before it: this task's new counters replace
-- its old ones in the sums (what sql/run_totals.sql computes after the fact).
totals AS (
    SELECT t.collection_run_id,
           sum(CASE WHEN o.id = t.id THEN t.records_collected ELSE o.records_collected END)
               AS records_collected,
           sum(CASE WHEN o.id = t.id THEN t.records_attributed ELSE o.records_attributed END)
               AS records_attributed,
           sum(CASE WHEN o.id = t.id THEN t.credits_spent ELSE o.credits_spent END)
               AS credits_spent
    FROM task AS t
    JOIN collection_tasks AS o ON o.collection_run_id = t.collection_run_id
    GROUP BY t.collection_run_id
),
run AS (
    UPDATE collection_runs AS r
    SET records_collected = s.records_collected,
        records_attributed = s.records_attributed,
        credits_spent = s.credits_spent
    FROM totals AS s
    WHERE r.id = s.collection_run_id
),
-- The validators sources sent on the page, by URL; a newer answer replaces an older one.
cache AS (
    INSERT INTO http_cache (url, etag, last_modified, updated_at)
    SELECT v.url, v.etag, v.last_modified, now()
    FROM jsonb_to_recordset(CAST(:validators AS jsonb)) AS v (url text, etag text, last_modified text)
    ON CONFLICT (url) DO UPDATE
    SET etag = EXCLUDED.etag,
        last_modified = EXCLUDED.last_modified,
        updated_at = EXCLUDED.updated_at
)
SELECT collection_run_id, status FROM task
