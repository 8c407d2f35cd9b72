-- Designs of one name (case-insensitive): a file-managed one first.
SELECT d.id, d.name, d.description, u.email AS owner, d.is_active, d.default_tier, d.language,
       d.locale_country, d.arenas_config, d.source_file, d.source_hash, d.created_at,
       d.updated_at, d.collection_revised_at
FROM query_designs AS d
JOIN users AS u ON u.id = d.owner_id
WHERE lower(d.name) = lower(:name)
ORDER BY d.source_file IS NULL, d.created_at
