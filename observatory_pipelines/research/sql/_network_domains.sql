-- Fragment (a CTE): the :network_domains domains most records link to, the nodes of both
-- link-mining networks.
network_domains AS (
    SELECT registered_domain, n_records
    FROM research_domain_ranks
    WHERE rank <= :network_domains
)
