-- Fragment (not a model): the shared filters of spec section 0, for alias c = content_records.
-- Every value is a bound parameter; NULL means "no filter" for the optional ones.
c.query_design_id = CAST(:query_design_id AS uuid)
AND (CAST(:collection_run_id AS uuid) IS NULL
     OR c.collection_run_id = CAST(:collection_run_id AS uuid))
AND (CAST(:arenas AS text[]) IS NULL OR c.arena = ANY (CAST(:arenas AS text[])))
AND (CAST(:platforms AS text[]) IS NULL OR c.platform = ANY (CAST(:platforms AS text[])))
AND (CAST(:date_from AS timestamptz) IS NULL
     OR c.published_at >= CAST(:date_from AS timestamptz))
AND (CAST(:date_to_exclusive AS timestamptz) IS NULL
     OR c.published_at < CAST(:date_to_exclusive AS timestamptz))
AND (CAST(:languages AS text[]) IS NULL
     OR split_part(lower(coalesce(c.language, c.raw_metadata ->> 'detected_language')), '-', 1)
        = ANY (CAST(:languages AS text[])))
AND (CAST(:terms AS text[]) IS NULL OR c.search_terms_matched && CAST(:terms AS text[]))
AND NOT (c.raw_metadata ? 'duplicate_of')
