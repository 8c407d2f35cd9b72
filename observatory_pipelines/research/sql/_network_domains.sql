-- Fragment (a CTE after {{ mined_links }}): the :network_domains domains most records link
-- to, the nodes of both link-mining networks.
network_domains AS (
    SELECT registered_domain, count(DISTINCT record_id) AS n_records
    FROM mined
    WHERE registered_domain IS NOT NULL
    GROUP BY registered_domain
    ORDER BY n_records DESC, registered_domain
    LIMIT :network_domains
)
