-- One run's reservations that are still open, with the user and tier they were made under.
SELECT t.user_id, t.arena, t.platform, t.tier, t.credits_consumed AS reserved
FROM credit_transactions AS t
WHERE t.collection_run_id = :run_id
  AND t.transaction_type = 'reservation'
  AND NOT EXISTS (
      SELECT 1 FROM credit_transactions AS c
      WHERE c.collection_run_id = t.collection_run_id
        AND c.arena = t.arena AND c.platform = t.platform
        AND c.transaction_type = 'refund'
  )
ORDER BY t.arena, t.platform
