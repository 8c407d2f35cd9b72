-- Fragment (not a model): the shared filters of spec section 0, over {{ scope_records }}
-- (aliases l = the design's link to the record, c = content_records).
-- Every value is a bound parameter; NULL means "no filter" for the optional ones.
-- A run filter keeps every record the run collected, also those already stored before it
-- (its id is in the link's collection_run_ids); terms are the ones the design matched.
l.query_design_id = CAST(:query_design_id AS uuid)
AND (CAST(:collection_run_id AS uuid) IS NULL
     OR CAST(:collection_run_id AS uuid) = ANY (l.collection_run_ids))
AND (CAST(:arenas AS text[]) IS NULL OR c.arena = ANY (CAST(:arenas AS text[])))
AND (CAST(:platforms AS text[]) IS NULL OR c.platform = ANY (CAST(:platforms AS text[])))
AND (CAST(:date_from AS timestamptz) IS NULL
     OR c.published_at >= CAST(:date_from AS timestamptz))
AND (CAST(:date_to_exclusive AS timestamptz) IS NULL
     OR c.published_at < CAST(:date_to_exclusive AS timestamptz))
AND (CAST(:languages AS text[]) IS NULL
     OR split_part(lower(coalesce(c.language, c.raw_metadata ->> 'detected_language')), '-', 1)
        = ANY (CAST(:languages AS text[])))
AND (CAST(:terms AS text[]) IS NULL OR l.search_terms_matched && CAST(:terms AS text[]))
AND NOT (c.raw_metadata ? 'duplicate_of')
