ALTER TABLE collection_tasks
    DROP COLUMN IF EXISTS sources_not_modified,
    DROP COLUMN IF EXISTS skipped_sources;
DROP TABLE IF EXISTS http_cache;
