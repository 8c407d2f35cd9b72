-- Finished runs holding a reservation that no refund row has closed yet.
-- A run without completed_at counts as finished at started_at, and as long ago without either.
SELECT r.id AS collection_run_id,
       r.status,
       r.initiated_by,
       COALESCE(r.completed_at, r.started_at) AS finished_at,
       count(*) AS open_reservations,
       sum(t.credits_consumed)::bigint AS open_credits
FROM credit_transactions AS t
JOIN collection_runs AS r ON r.id = t.collection_run_id
WHERE t.transaction_type = 'reservation'
  AND r.status = ANY(CAST(:statuses AS text[]))
  AND NOT EXISTS (
      SELECT 1 FROM credit_transactions AS c
      WHERE c.collection_run_id = t.collection_run_id
        AND c.arena = t.arena AND c.platform = t.platform
        AND c.transaction_type = 'refund'
  )
  AND COALESCE(r.completed_at, r.started_at, '-infinity'::timestamptz)
      <= COALESCE(CAST(:cutoff AS timestamptz), 'infinity'::timestamptz)
GROUP BY r.id, r.status, r.initiated_by, COALESCE(r.completed_at, r.started_at)
ORDER BY finished_at NULLS FIRST, r.id
