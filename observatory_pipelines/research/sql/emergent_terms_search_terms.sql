-- Every search term of the design, active or not: a term a researcher removed is not
-- "emergent" either.
SELECT term FROM search_terms WHERE query_design_id = CAST(:query_design_id AS uuid) ORDER BY term
