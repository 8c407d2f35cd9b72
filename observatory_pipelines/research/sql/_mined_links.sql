-- Fragment (a CTE, after WITH): the links link mining counts — the record's own URL
-- (self_reference) only when :include_self_references.
mined AS (
    SELECT *
    FROM research_links
    WHERE CAST(:include_self_references AS boolean) OR url_type <> 'self_reference'
)
