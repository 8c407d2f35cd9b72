-- One user's balance on :today (a UTC date); the formula lives in migration 004's credit_balance.
SELECT allocated, reserved, settled, refunded, available
FROM credit_balance(CAST(:user_id AS uuid), CAST(:today AS date))
