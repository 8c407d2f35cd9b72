-- Query designs written as files (observatory_pipelines/designs/): the file a design was synced
-- from and a hash of its bytes (an unchanged file is a no-op), a fingerprint of what the design
-- collects (terms, actor lists, arenas, mode, window, language), and when that last changed after
-- the design was created: the collection sensor then requests the design's window again, as the
-- original system started a new run when a design's terms changed.
ALTER TABLE query_designs ADD COLUMN source_file text;

ALTER TABLE query_designs ADD COLUMN source_hash varchar(64);

ALTER TABLE query_designs ADD COLUMN collection_fingerprint varchar(64);

ALTER TABLE query_designs ADD COLUMN collection_revised_at timestamptz;

-- One file-managed design per name (case-insensitive): two files may not claim one design, and
-- two concurrent syncs cannot both create it. Designs made otherwise (source_file NULL) are not
-- constrained.
CREATE UNIQUE INDEX uq_query_designs_file_name ON query_designs (lower(name))
    WHERE source_file IS NOT NULL;

-- AND-groups of search terms: terms of one design sharing a group number are ANDed, groups
-- (and ungrouped terms, NULL) are ORed (arenas.matching.term_groups).
ALTER TABLE search_terms ADD COLUMN term_group integer;
