ALTER TABLE collection_runs DROP COLUMN IF EXISTS created_at;
ALTER TABLE collection_tasks DROP COLUMN IF EXISTS heartbeat_at;
