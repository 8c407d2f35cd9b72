-- The records of one scope in export column order (spec section 5), oldest first.
-- {{ scope_records }} / {{ scope_where }} are the fragments the SQL models use: the design's
-- records are its links, so the design column is the exported design (never the design that
-- stored the record first) and the terms are the ones this design matched.
SELECT {{ export_columns }}
FROM {{ scope_records }}
JOIN query_designs AS qd ON qd.id = l.query_design_id
WHERE {{ scope_where }}
ORDER BY c.published_at, c.id
