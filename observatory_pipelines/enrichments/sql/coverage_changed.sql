-- From one enrichment's change log: the logged insertions still in content_records without a
-- result (what its next run would enrich), and the logged deletions whose results its next
-- run will prune (record gone, result still there). One index probe per logged key.
WITH logged AS (
    SELECT DISTINCT ch.deleted, ch.record_id, ch.published_at
    FROM enrichment_changes AS ch
    WHERE ch.enrichment = %(enrichment)s
), probed AS (
    SELECT
        l.deleted,
        EXISTS (
            SELECT 1 FROM content_records AS c
            WHERE c.id = l.record_id AND c.published_at = l.published_at
        ) AS present,
        EXISTS (
            SELECT 1 FROM {marker} AS m
            WHERE m.record_id = l.record_id AND m.published_at = l.published_at
        ) AS enriched
    FROM logged AS l
)
SELECT
    count(*) FILTER (WHERE NOT deleted AND present AND NOT enriched) AS missing,
    count(*) FILTER (WHERE deleted AND NOT present AND enriched) AS gone
FROM probed
