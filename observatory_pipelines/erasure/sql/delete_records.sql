-- The person's records in every partition, deleted through the parent. Each partition is read
-- through its idx_content_author / idx_content_pseudonym (a BitmapOr), never scanned whole.
WITH erased AS (
    DELETE FROM content_records
    WHERE author_id = CAST(:actor_id AS uuid)
       OR pseudonymized_author_id = ANY (CAST(:pseudonyms AS text[]))
    RETURNING tableoid::regclass::text, id, published_at, query_design_id
)
INSERT INTO erased_records (partition, id, published_at, query_design_id)
SELECT * FROM erased;
