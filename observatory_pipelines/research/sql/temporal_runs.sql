-- The design's completed collection runs, oldest first (completion, else start, then id).
SELECT id, started_at, completed_at
FROM collection_runs
WHERE query_design_id = CAST(:query_design_id AS uuid) AND status = 'completed'
ORDER BY coalesce(completed_at, started_at), id
