-- GDPR erasure (issue 16.5).
--   * erasure_log: what each erasure did, holding NO personal data of the erased person:
--     rows deleted per table and per partition, the designs whose records went, the output
--     objects deleted, when, who asked (the operator) and the request's reference (a case
--     number). Never the actor id, platform user id, pseudonym or a hash of any of them
--     (docs/erasure.md says why). status 'outputs_pending' = rows erased and committed, output
--     objects not yet all deleted (the next erasure run finishes them first).
--   * idx_content_pseudonym: an erasure by platform user finds the person's records by their
--     pseudonym in every partition without reading the partitions whole.
CREATE TABLE erasure_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    requested_by varchar(200) NOT NULL,
    request_reference varchar(100) NOT NULL,
    identified_by varchar(20) NOT NULL
        CONSTRAINT erasure_log_identified_by CHECK (identified_by IN ('actor', 'platform_user')),
    status varchar(20) NOT NULL DEFAULT 'outputs_pending'
        CONSTRAINT erasure_log_status CHECK (status IN ('outputs_pending', 'completed')),
    rows_deleted jsonb NOT NULL DEFAULT '{}'::jsonb,
    rows_by_partition jsonb NOT NULL DEFAULT '{}'::jsonb,
    affected_design_ids uuid[] NOT NULL DEFAULT '{}',
    object_keys_deleted text[] NOT NULL DEFAULT '{}',
    outputs_error text
);

CREATE INDEX idx_content_pseudonym ON content_records (pseudonymized_author_id);
