ALTER TABLE collection_runs DROP COLUMN IF EXISTS records_attributed;
ALTER TABLE collection_tasks DROP COLUMN IF EXISTS records_attributed;
