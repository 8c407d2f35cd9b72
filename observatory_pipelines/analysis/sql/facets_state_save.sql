-- The design's facet state after a refresh: a full rebuild records the code version and the
-- partitions it folded from (an incremental refresh writes the same ones back).
INSERT INTO analysis_facet_state AS s (
    query_design_id, code_version, partitions, refreshed_at, last_mode, last_reason,
    last_changes_folded
)
VALUES (CAST(:query_design_id AS uuid), :code_version, CAST(:partitions AS oid[]), now(), :mode,
        :reason, :changes_folded)
ON CONFLICT (query_design_id) DO UPDATE
SET code_version = EXCLUDED.code_version,
    partitions = EXCLUDED.partitions,
    refreshed_at = EXCLUDED.refreshed_at,
    last_mode = EXCLUDED.last_mode,
    last_reason = EXCLUDED.last_reason,
    last_changes_folded = EXCLUDED.last_changes_folded
