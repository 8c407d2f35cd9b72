-- top_domains: per registered domain, the records linking to it, their distinct authors
-- (platform-scoped pseudonyms) and platforms, its share of the records with any counted
-- link, first and last publication (undated records left out of those) and records per
-- platform.
WITH {{ mined_links }},
linking AS (
    SELECT count(DISTINCT record_id) AS records FROM mined
),
domains AS (
    SELECT m.registered_domain,
           r.n_records,
           count(DISTINCT m.platform || ':' || m.author) AS n_actors,
           count(DISTINCT m.platform) AS n_platforms,
           min(m.published_at) FILTER (WHERE NOT m.undated) AS first_published_at,
           max(m.published_at) FILTER (WHERE NOT m.undated) AS last_published_at
    FROM mined AS m
    JOIN research_domain_ranks AS r USING (registered_domain)
    WHERE r.rank <= :top_domains
    GROUP BY m.registered_domain, r.n_records
),
per_platform AS (
    SELECT registered_domain, jsonb_object_agg(platform, records) AS platforms
    FROM (SELECT m.registered_domain, m.platform, count(DISTINCT m.record_id) AS records
          FROM mined AS m
          JOIN domains AS d USING (registered_domain)
          GROUP BY m.registered_domain, m.platform) AS p
    GROUP BY registered_domain
)
SELECT d.registered_domain,
       d.n_records,
       d.n_actors,
       d.n_platforms,
       round(d.n_records::numeric / linking.records, 4) AS share_of_records,
       d.first_published_at,
       d.last_published_at,
       p.platforms
FROM domains AS d
JOIN per_platform AS p USING (registered_domain)
CROSS JOIN linking
ORDER BY d.n_records DESC, d.registered_domain
