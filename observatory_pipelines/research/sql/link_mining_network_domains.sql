-- Nodes of both link-mining networks: the :network_domains most linked domains.
WITH {{ network_domains }}
SELECT registered_domain, n_records FROM network_domains ORDER BY n_records DESC, registered_domain
