-- platform x domain: records of each platform linking to each of the :matrix_domains most
-- linked domains, the rest as '(other domains)'; row_pct = the cell's share of its
-- platform's row (a record linking to two domains counts in both cells).
WITH {{ mined_links }},
links AS (
    SELECT DISTINCT platform, registered_domain, record_id
    FROM mined
    WHERE registered_domain IS NOT NULL
),
top_domains AS (
    SELECT registered_domain FROM research_domain_ranks WHERE rank <= :matrix_domains
),
cells AS (
    SELECT l.platform,
           coalesce(t.registered_domain, '(other domains)') AS registered_domain,
           count(DISTINCT l.record_id) AS n_records
    FROM links AS l
    LEFT JOIN top_domains AS t USING (registered_domain)
    GROUP BY 1, 2
)
SELECT platform,
       registered_domain,
       n_records,
       round(100.0 * n_records / sum(n_records) OVER (PARTITION BY platform), 2) AS row_pct
FROM cells
ORDER BY platform, n_records DESC, registered_domain
