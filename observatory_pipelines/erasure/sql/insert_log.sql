-- One log row per erasure, in the erasure's transaction: no personal data (docs/erasure.md).
INSERT INTO erasure_log (
    requested_by, request_reference, identified_by, rows_deleted, rows_by_partition,
    affected_design_ids
)
VALUES (
    :requested_by, :reference, :identified_by, CAST(:rows_deleted AS jsonb),
    CAST(:rows_by_partition AS jsonb), CAST(:designs AS uuid[])
)
RETURNING id;
