-- Keyset page: strictly after the cursor's (created_at, id) in descending order.
SELECT id, collection_run_id, arena, platform, tier, credits_consumed, transaction_type,
       created_at, description
FROM credit_transactions
WHERE user_id = :user_id
  AND (created_at, id) < (:cursor_created_at, :cursor_id)
ORDER BY created_at DESC, id DESC
LIMIT :limit
