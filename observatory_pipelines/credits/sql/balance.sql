-- One user's balance: allocations valid on :today (a UTC date), all of the user's transactions.
SELECT a.allocated,
       t.reserved,
       t.settled,
       t.refunded,
       a.allocated - t.reserved - t.settled + t.refunded AS available
FROM (
    SELECT COALESCE(sum(credits_amount), 0)::bigint AS allocated
    FROM credit_allocations
    WHERE user_id = :user_id
      AND valid_from <= :today
      AND (valid_until IS NULL OR valid_until >= :today)
) AS a
CROSS JOIN (
    SELECT COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'reservation'), 0)::bigint AS reserved,
           COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'settlement'), 0)::bigint AS settled,
           COALESCE(sum(credits_consumed) FILTER (WHERE transaction_type = 'refund'), 0)::bigint AS refunded
    FROM credit_transactions
    WHERE user_id = :user_id
) AS t
