-- added_at = the transaction's time + the term's position in microseconds, so a design's terms
-- read back in file order (collection orders them by added_at).
INSERT INTO search_terms (query_design_id, term, term_type, term_group, added_at)
VALUES (
    CAST(:id AS uuid), :term, :term_type, :term_group,
    now() + make_interval(secs => :position * 0.000001)
)
