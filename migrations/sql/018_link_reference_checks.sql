-- content_record_collections' references to its design and first run, checked once per
-- statement instead of once per row (issue 20, target 1). The two foreign keys of migration 008
-- ran one RI trigger per inserted link, each a locking index probe (`SELECT 1 FROM
-- query_designs WHERE id = $1 FOR KEY SHARE`): per 5,000-row ingest batch ≈ 26 % of a plain COPY
-- of the batch, although every link of a batch names the same design and run. The triggers
-- below keep what the keys guaranteed:
--   * a link names an existing design, and a run that exists (or none): checked after every
--     INSERT or UPDATE statement on the links, for the distinct ids the statement wrote, with
--     the same FOR KEY SHARE row lock the RI check takes (a concurrent delete of the design or
--     run waits for this transaction; one that committed first leaves nothing to lock and the
--     statement fails with foreign_key_violation under the old constraint name);
--   * deleting a design deletes its links (was ON DELETE CASCADE), deleting a run sets the
--     links' first run to NULL (was ON DELETE SET NULL), TRUNCATE likewise; changing the id of
--     a design or run that links name is refused (was NO ACTION);
--   * the deletes run under READ COMMITTED only: the cascade's statement takes a new snapshot
--     after the DELETE has waited for every ingest that locked the design, so it sees their
--     links; a REPEATABLE READ snapshot would not (the RI triggers detect that with a
--     cross-check snapshot SQL cannot take), so such a delete is refused instead.
ALTER TABLE content_record_collections
    DROP CONSTRAINT content_record_collections_query_design_id_fkey,
    DROP CONSTRAINT content_record_collections_first_collection_run_id_fkey;

CREATE FUNCTION content_record_collections_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing uuid;
BEGIN
    -- Lock first (FOR KEY SHARE, as the RI check does), then compare: a design or run deleted
    -- by a transaction that committed while this one waited is not returned by the lock.
    PERFORM 1 FROM query_designs AS d
    WHERE d.id IN (SELECT DISTINCT query_design_id FROM new_links)
    FOR KEY SHARE;
    SELECT l.query_design_id INTO missing
    FROM (SELECT DISTINCT query_design_id FROM new_links) AS l
    WHERE NOT EXISTS (SELECT 1 FROM query_designs AS d WHERE d.id = l.query_design_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "content_record_collections" violates foreign key constraint "content_record_collections_query_design_id_fkey"'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'content_record_collections_query_design_id_fkey',
                  TABLE = 'content_record_collections',
                  DETAIL = format('Key (query_design_id)=(%s) is not present in table "query_designs".', missing);
    END IF;
    PERFORM 1 FROM collection_runs AS r
    WHERE r.id IN (SELECT DISTINCT first_collection_run_id FROM new_links)
    FOR KEY SHARE;
    SELECT l.first_collection_run_id INTO missing
    FROM (SELECT DISTINCT first_collection_run_id FROM new_links
          WHERE first_collection_run_id IS NOT NULL) AS l
    WHERE NOT EXISTS (SELECT 1 FROM collection_runs AS r WHERE r.id = l.first_collection_run_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "content_record_collections" violates foreign key constraint "content_record_collections_first_collection_run_id_fkey"'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'content_record_collections_first_collection_run_id_fkey',
                  TABLE = 'content_record_collections',
                  DETAIL = format('Key (first_collection_run_id)=(%s) is not present in table "collection_runs".', missing);
    END IF;
    RETURN NULL;
END
$$;

-- Deleted designs or runs: what the foreign keys' actions did (one statement per DELETE).
CREATE FUNCTION content_record_collections_read_committed() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'deleting query designs or collection runs needs READ COMMITTED (this transaction is %)',
                current_setting('transaction_isolation')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Their links are deleted (or unset) by a trigger whose statement must see links committed while the delete waited for their ingest.';
    END IF;
END
$$;

CREATE FUNCTION content_record_collections_referenced_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM content_record_collections_read_committed();
    IF TG_TABLE_NAME = 'query_designs' THEN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM content_record_collections;
        ELSE
            DELETE FROM content_record_collections AS l
            WHERE l.query_design_id IN (SELECT id FROM old_keys);
        END IF;
    ELSIF TG_OP = 'TRUNCATE' THEN
        UPDATE content_record_collections SET first_collection_run_id = NULL
        WHERE first_collection_run_id IS NOT NULL;
    ELSE
        UPDATE content_record_collections AS l SET first_collection_run_id = NULL
        WHERE l.first_collection_run_id IN (SELECT id FROM old_keys);
    END IF;
    RETURN NULL;
END
$$;

-- A design's or run's id changed (never done; NO ACTION before): refused while links name it.
-- Row-level with WHEN, so the frequent updates of runs (status, heartbeat, totals) fire nothing.
CREATE FUNCTION content_record_collections_referenced_key_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    column_name text := CASE TG_TABLE_NAME WHEN 'query_designs' THEN 'query_design_id'
                             ELSE 'first_collection_run_id' END;
BEGIN
    IF (TG_TABLE_NAME = 'query_designs' AND EXISTS (
            SELECT 1 FROM content_record_collections WHERE query_design_id = OLD.id))
       OR (TG_TABLE_NAME = 'collection_runs' AND EXISTS (
            SELECT 1 FROM content_record_collections WHERE first_collection_run_id = OLD.id))
    THEN
        RAISE EXCEPTION 'update on table "%" violates foreign key constraint "content_record_collections_%_fkey" on table "content_record_collections"',
                TG_TABLE_NAME, column_name
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "content_record_collections".', OLD.id);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER content_record_collections_references_inserted
    AFTER INSERT ON content_record_collections
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_check_references();
CREATE TRIGGER content_record_collections_references_updated
    AFTER UPDATE ON content_record_collections
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_check_references();

CREATE TRIGGER content_record_collections_design_deleted
    AFTER DELETE ON query_designs
    REFERENCING OLD TABLE AS old_keys
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_referenced_deleted();
CREATE TRIGGER content_record_collections_run_deleted
    AFTER DELETE ON collection_runs
    REFERENCING OLD TABLE AS old_keys
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_referenced_deleted();
CREATE TRIGGER content_record_collections_designs_truncated
    AFTER TRUNCATE ON query_designs
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_referenced_deleted();
CREATE TRIGGER content_record_collections_runs_truncated
    AFTER TRUNCATE ON collection_runs
    FOR EACH STATEMENT EXECUTE FUNCTION content_record_collections_referenced_deleted();
CREATE TRIGGER content_record_collections_design_key_changed
    BEFORE UPDATE OF id ON query_designs
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION content_record_collections_referenced_key_changed();
CREATE TRIGGER content_record_collections_run_key_changed
    BEFORE UPDATE OF id ON collection_runs
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION content_record_collections_referenced_key_changed();
