-- Runs, newest first (one run, one design's, or all), with what the ledger holds for each:
-- reserved = every reservation, settled = charged, refunded = released, held = still open.
SELECT r.id, r.query_design_id, d.name AS design, r.status, r.mode, r.tier,
       r.date_from, r.date_to, r.started_at, r.completed_at,
       r.estimated_credits, r.credits_spent, r.records_collected, r.records_attributed,
       r.error_log,
       COALESCE(l.reserved, 0) AS credits_reserved,
       COALESCE(l.settled, 0) AS credits_settled,
       COALESCE(l.refunded, 0) AS credits_refunded,
       COALESCE(l.uncharged, 0) AS credits_uncharged
FROM collection_runs AS r
LEFT JOIN query_designs AS d ON d.id = r.query_design_id
LEFT JOIN LATERAL (
    SELECT sum(credits_consumed) FILTER (WHERE transaction_type = 'reservation') AS reserved,
           sum(credits_consumed) FILTER (WHERE transaction_type = 'settlement') AS settled,
           sum(credits_consumed) FILTER (WHERE transaction_type = 'refund') AS refunded,
           sum(credits_consumed) FILTER (WHERE transaction_type = 'uncharged') AS uncharged
    FROM credit_transactions AS t
    WHERE t.collection_run_id = r.id
) AS l ON true
WHERE (CAST(:run_id AS uuid) IS NULL OR r.id = CAST(:run_id AS uuid))
  AND (CAST(:design_id AS uuid) IS NULL OR r.query_design_id = CAST(:design_id AS uuid))
-- Runs carry no creation time: a run not started yet is the newest, then by start.
ORDER BY r.started_at DESC NULLS FIRST, r.date_from DESC NULLS LAST, r.id
LIMIT :limit
