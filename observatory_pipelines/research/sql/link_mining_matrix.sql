-- platform x domain: records of each platform linking to each of the :matrix_domains most
-- linked domains, the rest as '(other domains)'; row_pct = the cell's share of its
-- platform's row (a record linking to two domains counts in both cells).
-- The cells of the top domains are sums over research_domain_authors (a domain's records add up
-- over its authors); only the records linking the other domains are counted one by one.
WITH {{ mined_links }},
top_domains AS (
    SELECT registered_domain FROM research_domain_ranks WHERE rank <= :matrix_domains
),
cells AS (
    SELECT a.platform, a.registered_domain, sum(a.n_records)::bigint AS n_records
    FROM research_domain_authors AS a
    JOIN top_domains AS t USING (registered_domain)
    GROUP BY a.platform, a.registered_domain
    UNION ALL
    SELECT platform, '(other domains)', count(*)
    FROM (SELECT DISTINCT m.platform, m.record_id  -- hashed, not a sort of the links
          FROM mined AS m
          WHERE m.registered_domain IS NOT NULL
            AND m.registered_domain NOT IN (SELECT registered_domain FROM top_domains)) AS r
    GROUP BY platform
)
SELECT platform,
       registered_domain,
       n_records,
       round(100.0 * n_records / sum(n_records) OVER (PARTITION BY platform), 2) AS row_pct
FROM cells
ORDER BY platform, n_records DESC, registered_domain
