-- The designs whose analyses and exports held an erased record (by link, or as the design that
-- stored it first), with their owners (exports are keyed by owner).
SELECT d.id::text, d.owner_id::text
FROM query_designs AS d
WHERE d.id = ANY (CAST(:linked AS uuid[]))
   OR d.id IN (SELECT query_design_id FROM erased_records WHERE query_design_id IS NOT NULL)
ORDER BY d.id;
