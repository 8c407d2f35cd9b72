-- The same rule in one detached partition ({table} is a quoted identifier from the catalog).
WITH erased AS (
    DELETE FROM {table}
    WHERE author_id = CAST(:actor_id AS uuid)
       OR pseudonymized_author_id = ANY (CAST(:pseudonyms AS text[]))
    RETURNING id, published_at, query_design_id
)
INSERT INTO erased_records (partition, id, published_at, query_design_id)
SELECT :table_name, id, published_at, query_design_id FROM erased;
