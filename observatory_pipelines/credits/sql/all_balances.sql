-- Every user's balance on :today (UTC date), most at risk first.
WITH alloc AS (
    SELECT user_id, sum(credits_amount)::bigint AS allocated
    FROM credit_allocations
    WHERE valid_from <= :today AND (valid_until IS NULL OR valid_until >= :today)
    GROUP BY user_id
), tx AS (
    SELECT user_id,
           COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'reservation'), 0)::bigint AS reserved,
           COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'settlement'), 0)::bigint AS settled,
           COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'refund'), 0)::bigint AS refunded
    FROM credit_transactions
    WHERE user_id IS NOT NULL
    GROUP BY user_id
)
SELECT u.id AS user_id,
       u.display_name,
       COALESCE(alloc.allocated, 0) AS allocated,
       COALESCE(tx.reserved, 0) AS reserved,
       COALESCE(tx.settled, 0) AS settled,
       COALESCE(tx.refunded, 0) AS refunded,
       COALESCE(alloc.allocated, 0) - COALESCE(tx.reserved, 0) - COALESCE(tx.settled, 0)
           + COALESCE(tx.refunded, 0) AS available
FROM users AS u
LEFT JOIN alloc ON alloc.user_id = u.id
LEFT JOIN tx ON tx.user_id = u.id
ORDER BY available ASC, u.id
