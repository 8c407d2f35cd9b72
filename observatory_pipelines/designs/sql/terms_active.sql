SELECT term, term_type, term_group
FROM search_terms
WHERE query_design_id = CAST(:id AS uuid)
  AND is_active
ORDER BY added_at, id
