-- One JSON object per record, the export rows' row_to_json, for COPY (FORMAT csv, QUOTE
-- e'\x01', DELIMITER e'\x02'): JSON text holds no raw control character (row_to_json escapes
-- every one), so COPY never quotes or escapes it and each line arrives as row_to_json wrote it.
-- The same rows and order as export_rows, but the object is built in the LATERAL row, which
-- the planner flattens into the scan and join: each parallel worker builds its records' JSON
-- before its sort, instead of the leader after the merge (the leader, merging and sending,
-- is the critical path).
SELECT CAST(row_to_json(x) AS text) AS line
FROM {{ scope_records }}
JOIN query_designs AS qd ON qd.id = l.query_design_id
CROSS JOIN LATERAL (SELECT {{ export_columns }}) AS x
WHERE {{ scope_where }}
ORDER BY c.published_at, c.id
