-- Per (registered domain, platform, author): the records of the author linking to the domain,
-- the author's display name and the first and last dated of those records. Stored as a temp
-- table, the per-domain figures (records, authors, platforms, dates, records per platform)
-- and the actor -> domain edges are sums and counts over it: each record has one platform and
-- author, so a domain's records are the sum over its authors. The links are grouped once here,
-- instead of being sorted again by every query that counts distinct records or authors.
WITH {{ mined_links }},
record_domains AS (  -- one row per (record, domain), hashed: the groups below count rows, so
    -- no count(DISTINCT record) sorts the links (platform, author, name and time are those of the record)
    SELECT DISTINCT record_id, registered_domain, platform, author, author_name, published_at,
           undated
    FROM mined
    WHERE registered_domain IS NOT NULL
)
SELECT registered_domain,
       platform,
       author,
       max(author_name) AS author_name,
       count(*) AS n_records,
       min(published_at) FILTER (WHERE NOT undated) AS first_published_at,
       max(published_at) FILTER (WHERE NOT undated) AS last_published_at
FROM record_domains
GROUP BY registered_domain, platform, author
