INSERT INTO query_designs (
    owner_id, name, description, is_active, default_tier, language, locale_country,
    arenas_config, source_file, source_hash, collection_fingerprint
)
VALUES (
    CAST(:owner_id AS uuid), :name, :description, :is_active, :tier, :language, :locale_country,
    CAST(:arenas_config AS jsonb), :source_file, :source_hash, :fingerprint
)
RETURNING id
