-- The tasks (one per arena) of the given runs, with their skipped sources.
SELECT t.collection_run_id, t.id, t.platform, t.arena, t.status, t.started_at,
       t.completed_at, t.records_collected, t.records_attributed, t.duplicates_skipped,
       t.records_rejected, t.credits_spent, t.error_message, t.skipped_sources,
       t.sources_not_modified
FROM collection_tasks AS t
WHERE t.collection_run_id = ANY(CAST(:run_ids AS uuid[]))
ORDER BY t.collection_run_id, t.platform
