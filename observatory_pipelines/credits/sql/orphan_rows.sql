-- Ledger keys holding a settlement or release with no reservation: no API call writes these
-- (settle/release of an unreserved key is refused), so each one is an inconsistency.
SELECT collection_run_id, arena, platform
FROM credit_transactions
WHERE collection_run_id IS NOT NULL
GROUP BY collection_run_id, arena, platform
HAVING bool_or(transaction_type IN ('settlement', 'refund'))
   AND NOT bool_or(transaction_type = 'reservation')
ORDER BY collection_run_id, arena, platform
