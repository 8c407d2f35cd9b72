-- Fragment (not a model): the records of the scope's design, for aliases l (the design's link
-- to the record: content_record_collections) and c (the record: content_records). A design's
-- records are its links — every record it collected, whichever design stored it first — never
-- content_records.query_design_id (that names only the first collector). Each record appears
-- once: the link's primary key is (design, record). {{ scope_where }} picks the design.
-- The join is on the record's key (id, published_at), written so the planner estimates it
-- right: as two equalities it multiplies their selectivities (each ~1/rows, no statistics span
-- the pair, and it uses no foreign key into a partitioned table) and expects ONE row for the
-- whole scope, so it never plans a parallel aggregate above this join. The id is the hash key;
-- the published_at match is the CASE, which PostgreSQL estimates as a NULL test (0.995) and
-- which is true exactly when the two are equal (both NOT NULL).
content_record_collections AS l
JOIN content_records AS c
  ON c.id = l.content_record_id
 AND (CASE WHEN c.published_at = l.published_at THEN 1 END) IS NOT NULL
