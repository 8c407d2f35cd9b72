-- A query design with its active search terms (one row per term; one row with NULL term if none).
SELECT d.id, d.owner_id, d.name, d.is_active, d.default_tier, d.language, d.locale_country,
       d.arenas_config, t.term, t.term_type, t.term_group
FROM query_designs AS d
LEFT JOIN search_terms AS t ON t.query_design_id = d.id AND t.is_active
WHERE d.id = CAST(:id AS uuid)
ORDER BY t.added_at, t.term, t.id
