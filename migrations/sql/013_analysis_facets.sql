-- Persisted facets of the standard analysis scope (issue 20, target 2): stg_content's additive
-- facets kept per query design, so a refresh folds only what changed since the last one
-- instead of re-reading every record of the design (docs/analysis.md, "Incremental facets").
--
--   * analysis_facet_state: one row per design whose facets are persisted: the code version
--     of the SQL that folded them, the content_records partitions they were folded from (a
--     partition dropped or added by retention/maintenance makes the next refresh a full
--     rebuild). Deleting records or links (an erasure) deletes the design's row and facets.
--   * analysis_facets: stg_content's rows of the design, keyed by a hash of the facet's keys;
--     records / engagement / scope_records are sums, so a change is added or subtracted.
--   * analysis_facet_changes: signed facet inputs (+1 a (link, record) pair that appeared, -1
--     one that went or changed) logged by the triggers below, only for designs with a state
--     row. A refresh consumes its design's rows with DELETE ... RETURNING in the same
--     statement that folds them: every change is folded exactly once whatever order the
--     writing transactions commit in (a timestamp watermark could skip a row committed late).
CREATE TABLE analysis_facet_state (
    query_design_id uuid PRIMARY KEY REFERENCES query_designs (id) ON DELETE CASCADE,
    code_version text NOT NULL,
    partitions oid[] NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    last_mode text NOT NULL,
    last_reason text,
    last_changes_folded bigint NOT NULL DEFAULT 0
);

-- No foreign keys on the two tables below: a per-row RI check doubled the cost of logging a
-- change in the ingest and of storing a rebuild. A deleted design's rows go with its links
-- (analysis_facets_links_deleted).
CREATE TABLE analysis_facets (
    query_design_id uuid NOT NULL,
    facet_key uuid NOT NULL,
    facet text NOT NULL,
    platform text,
    arena text,
    collection_run_id uuid,
    hour timestamptz,
    author_key text,
    pseudonymized_author_id text,
    author_display_name text,
    author_id uuid,
    author_platform_id text,
    terms text[],
    likes_count bigint,
    shares_count bigint,
    comments_count bigint,
    views_count bigint,
    records bigint NOT NULL,
    engagement bigint,
    scope_records bigint,
    CONSTRAINT analysis_facets_pkey PRIMARY KEY (query_design_id, facet_key)
);

CREATE TABLE analysis_facet_changes (
    query_design_id uuid NOT NULL,
    change_id bigint GENERATED ALWAYS AS IDENTITY,
    sign smallint NOT NULL CHECK (sign IN (-1, 1)),
    platform text NOT NULL,
    arena text NOT NULL,
    collection_run_id uuid,
    published_at timestamptz NOT NULL,
    pseudonymized_author_id text,
    author_display_name text,
    author_id uuid,
    author_platform_id text,
    terms text[],
    likes_count bigint,
    shares_count bigint,
    comments_count bigint,
    views_count bigint,
    -- a refresh deletes its design's rows: a prefix of the key
    CONSTRAINT analysis_facet_changes_pkey PRIMARY KEY (query_design_id, change_id)
);

-- Everything stored for these designs' facets (state, facets, pending changes), deleted.
CREATE FUNCTION analysis_facets_forget(designs uuid[]) RETURNS boolean
LANGUAGE sql AS $$
    WITH facets AS (DELETE FROM analysis_facets WHERE query_design_id = ANY (designs)),
         changes AS (DELETE FROM analysis_facet_changes WHERE query_design_id = ANY (designs)),
         state AS (DELETE FROM analysis_facet_state WHERE query_design_id = ANY (designs))
    SELECT true
$$;

-- The facet inputs of one (link, record) pair, as dbt_like_sql/_facet_rows.sql reads them for
-- the standard scope (no filter; the run is the design's first; duplicates left out).
-- Statement-level triggers with transition tables: one INSERT per statement, and nothing at
-- all is joined for designs without a state row.

-- New links (the ingest's staging_attribute.sql): +1 for each with its record.
CREATE FUNCTION analysis_facets_links_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM analysis_facet_state AS s
                   WHERE s.query_design_id IN (SELECT query_design_id FROM new_links)) THEN
        RETURN NULL;  -- the ingest of designs without facets (benchmarks, tools) pays this only
    END IF;
    INSERT INTO analysis_facet_changes (
        query_design_id, sign, platform, arena, collection_run_id, published_at,
        pseudonymized_author_id, author_display_name, author_id, author_platform_id, terms,
        likes_count, shares_count, comments_count, views_count)
    SELECT l.query_design_id, 1, c.platform, c.arena, l.first_collection_run_id, c.published_at,
           c.pseudonymized_author_id, c.author_display_name, c.author_id, c.author_platform_id,
           l.search_terms_matched, c.likes_count, c.shares_count, c.comments_count, c.views_count
    FROM new_links AS l
    JOIN analysis_facet_state AS s ON s.query_design_id = l.query_design_id
    -- LATERAL ... LIMIT 1 (a primary key: one row at most; the LIMIT keeps the planner from
    -- flattening it into a hash join over every record): one index probe per link.
    CROSS JOIN LATERAL (
        SELECT c.* FROM content_records AS c
        WHERE c.id = l.content_record_id AND c.published_at = l.published_at
        LIMIT 1
    ) AS c
    WHERE NOT (c.raw_metadata ? 'duplicate_of');
    RETURN NULL;
END
$$;

-- Changed links (a re-collection sets the design's current terms; a deleted run sets the first
-- run to NULL): -1 for the old pair and +1 for the new one, only where a facet input changed.
CREATE FUNCTION analysis_facets_links_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM analysis_facet_state AS s
                   WHERE s.query_design_id IN (SELECT query_design_id FROM new_links)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO analysis_facet_changes (
        query_design_id, sign, platform, arena, collection_run_id, published_at,
        pseudonymized_author_id, author_display_name, author_id, author_platform_id, terms,
        likes_count, shares_count, comments_count, views_count)
    SELECT x.query_design_id, x.sign, c.platform, c.arena, x.first_collection_run_id,
           c.published_at, c.pseudonymized_author_id, c.author_display_name, c.author_id,
           c.author_platform_id, x.search_terms_matched, c.likes_count, c.shares_count,
           c.comments_count, c.views_count
    FROM (
        SELECT -1 AS sign, o.* FROM old_links AS o
        WHERE NOT EXISTS (
            SELECT 1 FROM new_links AS n
            WHERE (n.query_design_id, n.content_record_id, n.published_at)
                  = (o.query_design_id, o.content_record_id, o.published_at)
              AND n.first_collection_run_id IS NOT DISTINCT FROM o.first_collection_run_id
              AND n.search_terms_matched IS NOT DISTINCT FROM o.search_terms_matched)
        UNION ALL
        SELECT 1, n.* FROM new_links AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM old_links AS o
            WHERE (n.query_design_id, n.content_record_id, n.published_at)
                  = (o.query_design_id, o.content_record_id, o.published_at)
              AND n.first_collection_run_id IS NOT DISTINCT FROM o.first_collection_run_id
              AND n.search_terms_matched IS NOT DISTINCT FROM o.search_terms_matched)
    ) AS x
    JOIN analysis_facet_state AS s ON s.query_design_id = x.query_design_id
    CROSS JOIN LATERAL (
        SELECT c.* FROM content_records AS c
        WHERE c.id = x.content_record_id AND c.published_at = x.published_at
        LIMIT 1
    ) AS c
    WHERE NOT (c.raw_metadata ? 'duplicate_of');
    RETURN NULL;
END
$$;

-- Changed records (marked duplicate_of, counts or author fields updated, an actor deleted):
-- -1 for the old values and +1 for the new ones in every design with state that links the
-- record, only where a facet input (or the duplicate mark) changed.
CREATE FUNCTION analysis_facets_records_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM analysis_facet_state) THEN
        RETURN NULL;
    END IF;
    INSERT INTO analysis_facet_changes (
        query_design_id, sign, platform, arena, collection_run_id, published_at,
        pseudonymized_author_id, author_display_name, author_id, author_platform_id, terms,
        likes_count, shares_count, comments_count, views_count)
    SELECT l.query_design_id, x.sign, x.platform, x.arena, l.first_collection_run_id,
           x.published_at, x.pseudonymized_author_id, x.author_display_name, x.author_id,
           x.author_platform_id, l.search_terms_matched, x.likes_count, x.shares_count,
           x.comments_count, x.views_count
    FROM (
        SELECT -1 AS sign, o.id, o.published_at, o.platform, o.arena,
               o.pseudonymized_author_id, o.author_display_name, o.author_id,
               o.author_platform_id, o.likes_count, o.shares_count, o.comments_count,
               o.views_count, o.raw_metadata ? 'duplicate_of' AS duplicate
        FROM old_records AS o
        UNION ALL
        SELECT 1, n.id, n.published_at, n.platform, n.arena, n.pseudonymized_author_id,
               n.author_display_name, n.author_id, n.author_platform_id, n.likes_count,
               n.shares_count, n.comments_count, n.views_count, n.raw_metadata ? 'duplicate_of'
        FROM new_records AS n
    ) AS x
    CROSS JOIN analysis_facet_state AS s
    CROSS JOIN LATERAL (  -- one primary-key probe per (design with facets, record)
        SELECT l.* FROM content_record_collections AS l
        WHERE l.query_design_id = s.query_design_id
          AND l.content_record_id = x.id AND l.published_at = x.published_at
        LIMIT 1
    ) AS l
    WHERE NOT x.duplicate
      AND NOT EXISTS (  -- unchanged in every facet input: the -1 and +1 would cancel
        SELECT 1 FROM old_records AS o JOIN new_records AS n USING (id, published_at)
        WHERE o.id = x.id AND o.published_at = x.published_at
          AND (o.platform, o.arena, o.pseudonymized_author_id, o.author_display_name,
               o.author_id, o.author_platform_id, o.likes_count, o.shares_count,
               o.comments_count, o.views_count, o.raw_metadata ? 'duplicate_of')
              IS NOT DISTINCT FROM
              (n.platform, n.arena, n.pseudonymized_author_id, n.author_display_name,
               n.author_id, n.author_platform_id, n.likes_count, n.shares_count,
               n.comments_count, n.views_count, n.raw_metadata ? 'duplicate_of'));
    RETURN NULL;
END
$$;

-- Deleted records or links (an erasure, through the parent): the design's stored facets,
-- pending changes and state are deleted in the same transaction — they may name the person
-- being erased (author pseudonyms and display names), so they must not wait for a refresh, and
-- an erasure only ever deletes rows — and its next refresh is a first build from its records.
-- Rare, and exact by construction. Rare, and exact by construction. Statements
-- on one partition (partition maintenance moving rows out of the default) fire none of these
-- statement triggers: the partition set they change makes the next refresh a rebuild.
CREATE FUNCTION analysis_facets_records_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analysis_facets_forget(array_agg(s.query_design_id))
    FROM analysis_facet_state AS s
    WHERE EXISTS (
        SELECT 1 FROM old_records AS o
        CROSS JOIN LATERAL (
            SELECT 1 FROM content_record_collections AS l
            WHERE l.query_design_id = s.query_design_id
              AND l.content_record_id = o.id AND l.published_at = o.published_at
            LIMIT 1
        ) AS l);
    RETURN NULL;
END
$$;

-- Also a deleted design (its links cascade from query_designs, its state row too).
CREATE FUNCTION analysis_facets_links_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analysis_facets_forget(array_agg(DISTINCT query_design_id)) FROM old_links;
    RETURN NULL;
END
$$;

CREATE TRIGGER analysis_facets_links_inserted
    AFTER INSERT ON content_record_collections
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_facets_links_inserted();
CREATE TRIGGER analysis_facets_links_updated
    AFTER UPDATE ON content_record_collections
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_facets_links_updated();
CREATE TRIGGER analysis_facets_links_deleted
    AFTER DELETE ON content_record_collections
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_facets_links_deleted();
CREATE TRIGGER analysis_facets_records_updated
    AFTER UPDATE ON content_records
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_facets_records_updated();
CREATE TRIGGER analysis_facets_records_deleted
    AFTER DELETE ON content_records
    REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_facets_records_deleted();
