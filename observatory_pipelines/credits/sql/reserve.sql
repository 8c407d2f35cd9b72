-- Lock, key check, balance check and insert in one statement (migration 004's credit_reserve).
SELECT outcome, available, existing_credits, existing_user
FROM credit_reserve(
    CAST(:user_id AS uuid), CAST(:run_id AS uuid), CAST(:arena AS varchar),
    CAST(:platform AS varchar), CAST(:tier AS varchar), CAST(:credits AS integer),
    CAST(:today AS date), CAST(:description AS text)
)
