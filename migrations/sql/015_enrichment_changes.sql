-- Incremental enrichment runs (issue 19, benchmark): a run's fixed work follows the records
-- that changed since the last run, not the size of content_records (framework.py).
--
--   * enrichment_changes: the records inserted into or deleted from content_records (through
--     the parent) since each enrichment last consumed them, one row per enrichment that has a
--     row in enrichment_versions. A run takes its rows with DELETE ... RETURNING in the
--     transaction that enriches (or prunes) them, so every change is applied exactly once
--     whatever order the writing transactions commit in (a collected_at watermark would skip
--     a record committed late, and the ingest may set collected_at itself).
--   * enrichment_versions.swept_partitions: the content_records partitions at the end of the
--     enrichment's last full pass (keyset over every record, anti-join with its marker, full
--     prune). NULL (a new version, or a TRUNCATE) or a different partition set (retention
--     dropped a month, maintenance attached one, a table was re-attached: none of these fire
--     the statement triggers below) makes the next run a full pass again.
--   * enrichment_versions.enriched_records: the marker rows the enrichment holds, counted
--     exactly at the end of a full pass and kept by each run since (pages add, prunes
--     subtract), so the coverage in the metadata needs no count over every record.
--   * idx_enrichment_near_dup_buckets_record: the buckets of a deleted record found by its key
--     (the primary key leads with the bucket), so pruning one record reads its 14 rows.
-- Partition maintenance moves rows between partitions directly (not through the parent): no
-- change is logged and none is needed, the (id, published_at) keys of the results stay valid.
ALTER TABLE enrichment_versions
    ADD COLUMN swept_partitions oid[],
    ADD COLUMN enriched_records bigint;

CREATE INDEX idx_enrichment_near_dup_buckets_record
    ON enrichment_near_dup_buckets (record_id, published_at);

CREATE TABLE enrichment_changes (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    enrichment text NOT NULL,
    deleted boolean NOT NULL,
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    -- a run reads its enrichment's insertions (or deletions) in arrival order
    CONSTRAINT enrichment_changes_pkey PRIMARY KEY (enrichment, deleted, seq)
);

-- Statement-level triggers with transition tables: one INSERT per ingest statement, and
-- nothing at all while no enrichment has run yet.
-- (Each branch names only its own transition table: PL/pgSQL plans a statement when it runs.)
CREATE FUNCTION enrichment_records_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM enrichment_versions) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO enrichment_changes (enrichment, deleted, record_id, published_at)
        SELECT v.enrichment, false, n.id, n.published_at
        FROM enrichment_versions AS v CROSS JOIN new_records AS n;
    ELSE
        INSERT INTO enrichment_changes (enrichment, deleted, record_id, published_at)
        SELECT v.enrichment, true, o.id, o.published_at
        FROM enrichment_versions AS v CROSS JOIN old_records AS o;
    END IF;
    RETURN NULL;
END
$$;

-- A TRUNCATE logs no rows: every enrichment's next run is a full pass (which prunes all).
CREATE FUNCTION enrichment_records_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrichment_versions SET swept_partitions = NULL WHERE swept_partitions IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER enrichment_records_inserted
    AFTER INSERT ON content_records
    REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION enrichment_records_changed();
CREATE TRIGGER enrichment_records_deleted
    AFTER DELETE ON content_records
    REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION enrichment_records_changed();
CREATE TRIGGER enrichment_records_truncated
    AFTER TRUNCATE ON content_records
    FOR EACH STATEMENT EXECUTE FUNCTION enrichment_records_truncated();
