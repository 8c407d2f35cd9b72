ALTER TABLE search_terms DROP COLUMN IF EXISTS term_group;
DROP INDEX IF EXISTS uq_query_designs_file_name;
ALTER TABLE query_designs DROP COLUMN IF EXISTS collection_revised_at;
ALTER TABLE query_designs DROP COLUMN IF EXISTS collection_fingerprint;
ALTER TABLE query_designs DROP COLUMN IF EXISTS source_hash;
ALTER TABLE query_designs DROP COLUMN IF EXISTS source_file;
