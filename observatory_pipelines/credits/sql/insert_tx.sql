INSERT INTO credit_transactions (
    user_id, collection_run_id, arena, platform, tier, credits_consumed, transaction_type, description
)
VALUES (:user_id, :run_id, :arena, :platform, :tier, :credits, :transaction_type, :description)
ON CONFLICT DO NOTHING
