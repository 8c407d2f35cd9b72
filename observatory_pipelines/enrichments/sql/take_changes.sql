-- The oldest logged insertions (or deletions) of one enrichment, taken: deleted in the
-- transaction that applies them, so a page that fails leaves them for the next run.
DELETE FROM enrichment_changes
WHERE enrichment = %(enrichment)s AND deleted = %(deleted)s
  AND seq IN (
      SELECT seq FROM enrichment_changes
      WHERE enrichment = %(enrichment)s AND deleted = %(deleted)s
      ORDER BY seq
      LIMIT %(page_size)s
  )
RETURNING record_id, published_at
