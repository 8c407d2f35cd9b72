-- Every design's link to an erased record. The links' key starts with the design, so the join
-- goes through query_designs (every link's design exists: ON DELETE CASCADE) to probe the
-- primary key (design, record, published_at) per erased record instead of reading every link.
WITH gone AS (
    DELETE FROM content_record_collections AS l
    USING erased_records AS e, query_designs AS d
    WHERE l.query_design_id = d.id
      AND l.content_record_id = e.id
      AND l.published_at = e.published_at
    RETURNING l.query_design_id
)
SELECT query_design_id::text, count(*) FROM gone GROUP BY query_design_id;
