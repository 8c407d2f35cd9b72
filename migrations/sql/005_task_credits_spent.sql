-- The real cost of each arena's task. The settlement job used to split the run's total across
-- its arenas in proportion to their reservations; with this column it charges each task exactly.
ALTER TABLE collection_tasks ADD COLUMN credits_spent integer NOT NULL DEFAULT 0;

-- Tasks settled before this column existed: their cost is the settlement the ledger wrote.
UPDATE collection_tasks AS t
SET credits_spent = c.credits_consumed
FROM credit_transactions AS c
WHERE c.collection_run_id = t.collection_run_id
  AND c.arena = t.arena
  AND c.platform = t.platform
  AND c.transaction_type = 'settlement';
