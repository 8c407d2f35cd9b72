-- Designs that already have a run for exactly this window (any status but a credit refusal
-- retried later would need a new window; a design is never started twice for one window).
SELECT DISTINCT CAST(query_design_id AS text)
FROM collection_runs
WHERE query_design_id = ANY(CAST(:ids AS uuid[]))
  AND date_from = CAST(:date_from AS timestamptz)
  AND date_to = CAST(:date_to AS timestamptz)
