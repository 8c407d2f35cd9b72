-- The enrichment's new version: its tables were just emptied, so its logged changes go too,
-- its next run is a full pass (no swept partitions) and it holds no results.
WITH cleared AS (
    DELETE FROM enrichment_changes WHERE enrichment = %(enrichment)s
)
INSERT INTO enrichment_versions AS v (
    enrichment, method_version, set_at, swept_partitions, enriched_records
)
VALUES (%(enrichment)s, %(method_version)s, now(), NULL, 0)
ON CONFLICT (enrichment) DO UPDATE
SET method_version = EXCLUDED.method_version, set_at = EXCLUDED.set_at,
    swept_partitions = NULL, enriched_records = 0
