-- Right after staging_insert.sql in the same transaction, when that did not insert every staged
-- row: attribute every staged row to the stored record it names — the copy stored earlier (by
-- any design) or the row just inserted (already linked there; its link is left as it is) — so
-- the design sees it whether it was new or a duplicate.
-- A separate statement (not a CTE of the insert) so it sees rows that a concurrent task
-- committed while the insert waited on them (READ COMMITTED: a new snapshot per statement).
--   * dated rows name their record by the unique key (platform, platform_id, published_at);
--   * undated rows (published_at is a collection time) by (platform, platform_id) among the
--     undated records, as the insert's dedup does.
-- A row that names no stored record was dropped as the same content as a row kept in this or
-- an earlier batch of the task, which is attributed itself.
-- One row per (design, record): a new link, or the run added to an existing one (and the
-- design's current matched terms); a run already listed changes nothing (a retried batch).
-- Returns how many records are new to the design (inserted links; xmax = 0 only on insert).
WITH linked AS (
INSERT INTO content_record_collections AS l (
    query_design_id, content_record_id, published_at, first_collection_run_id,
    collection_run_ids, search_terms_matched
)
SELECT DISTINCT ON (c.id, c.published_at)
    CAST(%(query_design_id)s AS uuid), c.id, c.published_at, CAST(%(run_id)s AS uuid),
    CASE WHEN CAST(%(run_id)s AS uuid) IS NULL THEN '{}'::uuid[]
         ELSE ARRAY[CAST(%(run_id)s AS uuid)] END,
    s.search_terms_matched
FROM collection_staging AS s
-- LATERAL: one index probe per staged row; the branch that does not apply is a one-time-false
-- filter, and the dated probe's published_at prunes it to one partition.
JOIN LATERAL (
    SELECT c.id, c.published_at
    FROM content_records AS c
    WHERE NOT s.undated
      AND c.platform = s.platform
      AND c.platform_id = s.platform_id
      AND c.published_at = s.published_at
    UNION ALL
    SELECT c.id, c.published_at
    FROM content_records AS c
    WHERE s.undated
      AND c.platform = s.platform
      AND c.platform_id = s.platform_id
      AND c.raw_metadata ->> 'published_at_source' = 'collected_at'
) AS c ON true
ORDER BY c.id, c.published_at
ON CONFLICT (query_design_id, content_record_id, published_at) DO UPDATE
SET collection_run_ids = l.collection_run_ids || EXCLUDED.first_collection_run_id,
    search_terms_matched = EXCLUDED.search_terms_matched
WHERE EXCLUDED.first_collection_run_id IS NOT NULL
  AND NOT (EXCLUDED.first_collection_run_id = ANY (l.collection_run_ids))
RETURNING (xmax = 0) AS new_to_design
)
SELECT count(*) FILTER (WHERE new_to_design) FROM linked
