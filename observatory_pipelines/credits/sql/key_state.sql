-- What the ledger holds for one (run, arena, platform): the reservation, and whether it is closed.
SELECT max(credits_consumed) FILTER (WHERE transaction_type = 'reservation') AS reserved,
       max(user_id::text) FILTER (WHERE transaction_type = 'reservation') AS reserved_by,
       COALESCE(bool_or(transaction_type = 'settlement'), false) AS settled,
       COALESCE(bool_or(transaction_type = 'refund'), false) AS closed
FROM credit_transactions
WHERE collection_run_id = :run_id AND arena = :arena AND platform = :platform
