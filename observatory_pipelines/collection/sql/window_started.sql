-- Designs that already have a run for exactly this window (any status but a credit refusal
-- retried later would need a new window; a design is never started twice for one window).
-- A run from before the design's last revision (its terms or arenas changed since) does not
-- count: the revised design is collected for the window again.
SELECT DISTINCT CAST(r.query_design_id AS text)
FROM collection_runs AS r
JOIN query_designs AS d ON d.id = r.query_design_id
WHERE r.query_design_id = ANY(CAST(:ids AS uuid[]))
  AND r.date_from = CAST(:date_from AS timestamptz)
  AND r.date_to = CAST(:date_to AS timestamptz)
  AND (d.collection_revised_at IS NULL OR r.created_at >= d.collection_revised_at)
