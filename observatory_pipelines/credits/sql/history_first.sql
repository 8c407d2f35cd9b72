SELECT id, collection_run_id, arena, platform, tier, credits_consumed, transaction_type,
       created_at, description
FROM credit_transactions
WHERE user_id = :user_id
ORDER BY created_at DESC, id DESC
LIMIT :limit
