-- Fragment (not a model): the records of the scope's design, for aliases l (the design's link
-- to the record: content_record_collections) and c (the record: content_records). A design's
-- records are its links — every record it collected, whichever design stored it first — never
-- content_records.query_design_id (that names only the first collector). Each record appears
-- once: the link's primary key is (design, record). {{ scope_where }} picks the design.
content_record_collections AS l
JOIN content_records AS c ON c.id = l.content_record_id AND c.published_at = l.published_at
