ALTER TABLE collection_tasks DROP COLUMN IF EXISTS credits_spent;
