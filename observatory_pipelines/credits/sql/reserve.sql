-- Lock, key check, balance check and insert in one statement (migration 004's credit_reserve).
-- Joined to users so an unknown user returns no row at all (and credit_reserve never runs for
-- it): the caller can then say "unknown user" instead of "available 0".
SELECT r.outcome, r.available, r.existing_credits, r.existing_user
FROM users AS u
CROSS JOIN LATERAL credit_reserve(
    u.id, CAST(:run_id AS uuid), CAST(:arena AS varchar),
    CAST(:platform AS varchar), CAST(:tier AS varchar), CAST(:credits AS integer),
    CAST(:today AS date), CAST(:description AS text)
) AS r
WHERE u.id = CAST(:user_id AS uuid)
