-- Runs under the user's advisory lock, so the balance it reads cannot change before the insert.
-- Inserts nothing when the balance cannot cover :credits or the key is already closed.
WITH balance AS (
{balance}
)
INSERT INTO credit_transactions (
    user_id, collection_run_id, arena, platform, tier, credits_consumed, transaction_type, description
)
SELECT CAST(:user_id AS uuid), CAST(:run_id AS uuid), CAST(:arena AS varchar), CAST(:platform AS varchar),
       CAST(:tier AS varchar), CAST(:credits AS integer), 'reservation', CAST(:description AS text)
FROM balance
WHERE balance.available >= CAST(:credits AS integer)
  AND NOT EXISTS (
      SELECT 1 FROM credit_transactions
      WHERE collection_run_id = :run_id AND arena = :arena AND platform = :platform
        AND transaction_type = 'refund'
  )
ON CONFLICT DO NOTHING
RETURNING id
