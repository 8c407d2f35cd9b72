-- Fragment (a CTE, after WITH): the links link mining counts — the record's own URL
-- (self_reference) only when :include_self_references — with the columns it reads. Not
-- materialized: a query reading it twice scans the temp table twice rather than copy ~1 M
-- links into a CTE store that spills past work_mem.
mined AS NOT MATERIALIZED (
    SELECT record_id, published_at, platform, author, author_name, undated, url_key,
           url_clean, registered_domain
    FROM research_links
    WHERE CAST(:include_self_references AS boolean) OR url_type <> 'self_reference'
)
