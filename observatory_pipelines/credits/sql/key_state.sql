-- What the ledger holds for one (run, arena, platform): the reservation and by whom, the
-- settlement and the uncharged remainder (their sum is the actual cost asked), whether closed.
SELECT max(credits_consumed) FILTER (WHERE transaction_type = 'reservation') AS reserved,
       max(user_id::text) FILTER (WHERE transaction_type = 'reservation') AS reserved_by,
       max(credits_consumed) FILTER (WHERE transaction_type = 'settlement') AS settled,
       max(credits_consumed) FILTER (WHERE transaction_type = 'uncharged') AS uncharged,
       COALESCE(bool_or(transaction_type = 'refund'), false) AS closed
FROM credit_transactions
WHERE collection_run_id = :run_id AND arena = :arena AND platform = :platform
