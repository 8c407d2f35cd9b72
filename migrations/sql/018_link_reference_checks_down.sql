DROP TRIGGER IF EXISTS content_record_collections_references_inserted ON content_record_collections;
DROP TRIGGER IF EXISTS content_record_collections_references_updated ON content_record_collections;
DROP TRIGGER IF EXISTS content_record_collections_design_deleted ON query_designs;
DROP TRIGGER IF EXISTS content_record_collections_designs_truncated ON query_designs;
DROP TRIGGER IF EXISTS content_record_collections_design_key_changed ON query_designs;
DROP TRIGGER IF EXISTS content_record_collections_run_deleted ON collection_runs;
DROP TRIGGER IF EXISTS content_record_collections_runs_truncated ON collection_runs;
DROP TRIGGER IF EXISTS content_record_collections_run_key_changed ON collection_runs;
DROP FUNCTION IF EXISTS content_record_collections_check_references();
DROP FUNCTION IF EXISTS content_record_collections_referenced_deleted();
DROP FUNCTION IF EXISTS content_record_collections_referenced_key_changed();
DROP FUNCTION IF EXISTS content_record_collections_read_committed();

-- Links the triggers let through are valid; ADD CONSTRAINT validates them anyway.
ALTER TABLE content_record_collections
    ADD CONSTRAINT content_record_collections_query_design_id_fkey
        FOREIGN KEY (query_design_id) REFERENCES query_designs (id) ON DELETE CASCADE,
    ADD CONSTRAINT content_record_collections_first_collection_run_id_fkey
        FOREIGN KEY (first_collection_run_id) REFERENCES collection_runs (id) ON DELETE SET NULL;
