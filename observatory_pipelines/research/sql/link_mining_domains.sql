-- top_domains: per registered domain, the records linking to it, their distinct authors
-- (platform-scoped pseudonyms) and platforms, its share of the records with any counted
-- link, first and last publication (undated records left out of those) and records per
-- platform; from the per-(domain, platform, author) groups (research_domain_authors): an
-- author is one group with a pseudonym, records add up over a domain's groups.
WITH {{ mined_links }},
linking AS (
    SELECT count(DISTINCT record_id) AS records FROM mined
),
listed AS (
    SELECT a.*, r.n_records AS domain_records
    FROM research_domain_authors AS a
    JOIN research_domain_ranks AS r USING (registered_domain)
    WHERE r.rank <= :top_domains
),
domains AS (  -- hashed: no count(DISTINCT) here, the platforms are counted per_platform
    SELECT registered_domain,
           domain_records AS n_records,
           count(author) AS n_actors,
           min(first_published_at) AS first_published_at,
           max(last_published_at) AS last_published_at
    FROM listed
    GROUP BY registered_domain, domain_records
),
per_platform AS (  -- one row per (domain, platform) below: its platforms are its rows
    SELECT registered_domain,
           jsonb_object_agg(platform, records) AS platforms,
           count(platform) AS n_platforms
    FROM (SELECT registered_domain, platform, sum(n_records)::bigint AS records
          FROM listed
          GROUP BY registered_domain, platform) AS p
    GROUP BY registered_domain
)
SELECT d.registered_domain,
       d.n_records,
       d.n_actors,
       p.n_platforms,
       round(d.n_records::numeric / linking.records, 4) AS share_of_records,
       d.first_published_at,
       d.last_published_at,
       p.platforms
FROM domains AS d
JOIN per_platform AS p USING (registered_domain)
CROSS JOIN linking
ORDER BY d.n_records DESC, d.registered_domain
