-- What the original lacked: per-task dedup counts, and one ledger row per
-- (run, arena, platform, type) so settle/refund are idempotent.
ALTER TABLE collection_tasks
    ADD COLUMN duplicates_skipped integer NOT NULL DEFAULT 0,
    ADD COLUMN records_rejected integer NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX uq_credit_tx_run_arena_type ON credit_transactions (
    collection_run_id, arena, platform, transaction_type
) WHERE collection_run_id IS NOT NULL;
