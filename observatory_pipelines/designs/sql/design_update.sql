-- An edited file: every field from the file; a changed fingerprint (what is collected) is a
-- revision, which the collection sensor turns into a new run of the design's window.
UPDATE query_designs
SET owner_id = CAST(:owner_id AS uuid),
    name = :name,
    description = :description,
    is_active = :is_active,
    default_tier = :tier,
    language = :language,
    locale_country = :locale_country,
    arenas_config = CAST(:arenas_config AS jsonb),
    source_file = :source_file,
    source_hash = :source_hash,
    collection_revised_at = CASE
        WHEN collection_fingerprint IS DISTINCT FROM :fingerprint THEN now()
        ELSE collection_revised_at
    END,
    collection_fingerprint = :fingerprint,
    updated_at = now()
WHERE id = CAST(:id AS uuid)
