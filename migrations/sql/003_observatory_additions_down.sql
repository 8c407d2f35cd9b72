DROP INDEX IF EXISTS uq_credit_tx_run_arena_type;
ALTER TABLE collection_tasks DROP COLUMN IF EXISTS records_rejected,
    DROP COLUMN IF EXISTS duplicates_skipped;
