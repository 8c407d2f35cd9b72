-- Sources one page skipped (appended, with reasons) and answered 304, on the task.
UPDATE collection_tasks
SET skipped_sources = skipped_sources || CAST(:skipped AS jsonb),
    sources_not_modified = sources_not_modified + :not_modified
WHERE id = :id;
