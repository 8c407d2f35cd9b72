-- Attribution per design and run (issue 13.1). Dedup stays global: one stored copy per record
-- in content_records. Which designs (and runs) collected a record lives here, one row per
-- (design, record): a design that collects a record another design stored earlier gets its
-- own row, so its analyses and exports see the record.
--   * primary key (query_design_id, content_record_id, published_at): "the records of design
--     X" is a prefix scan of it, each record exactly once;
--   * first_collection_run_id: the design's run that first collected the record;
--     collection_run_ids: every run of the design that collected it (first included), so
--     "records first / also collected by run R" is a filter on the design's rows;
--   * search_terms_matched: the design's own search terms the record matched (another design
--     matched its own terms; content_records keeps the first collector's).
-- No foreign key to content_records: partition maintenance moves rows out of the default
-- partition by DELETE + INSERT (partitions/sql/create_month.sql), which a foreign key would
-- refuse or cascade into deleting the links. Every reader joins content_records, so a link
-- whose record left (a retired partition) is never seen.
CREATE TABLE content_record_collections (
    query_design_id uuid NOT NULL REFERENCES query_designs (id) ON DELETE CASCADE,
    content_record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    first_collection_run_id uuid REFERENCES collection_runs (id) ON DELETE SET NULL,
    collection_run_ids uuid[] NOT NULL DEFAULT '{}',
    search_terms_matched text[],
    first_collected_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_record_collections_pkey
        PRIMARY KEY (query_design_id, content_record_id, published_at)
);

-- Existing records: one link each, from the design and run that stored them.
INSERT INTO content_record_collections (
    query_design_id, content_record_id, published_at, first_collection_run_id,
    collection_run_ids, search_terms_matched, first_collected_at
)
SELECT c.query_design_id, c.id, c.published_at, c.collection_run_id,
       CASE WHEN c.collection_run_id IS NULL THEN '{}'::uuid[]
            ELSE ARRAY[c.collection_run_id] END,
       c.search_terms_matched, c.collected_at
FROM content_records AS c
WHERE c.query_design_id IS NOT NULL;
