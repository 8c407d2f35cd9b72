-- The rows of a `returns: stream` model's temp table ({table}) as JSON text, one row a line in
-- the model's order ({order}: its ORDER BY or nothing), each line after the first starting with
-- a comma: the lines as they come are the inside of a JSON array. {row_json} is the row as
-- row_to_json(t)::text writes it, built by concatenation (sql_models._row_json: to_json of each
-- value, integers as their text), which costs about half of row_to_json per row. CSV with
-- control characters as quote and delimiter passes the JSON through unchanged (to_json escapes
-- every control character, so none occurs in it; a text COPY would double its backslashes).
COPY (
    SELECT CASE WHEN row_number() OVER ({order}) > 1 THEN ',' ELSE '' END || {row_json}
    FROM {table} AS t
    {order}
) TO STDOUT (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
