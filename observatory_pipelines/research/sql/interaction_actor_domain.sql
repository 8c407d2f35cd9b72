-- Actor–domain bipartite network: an author and a registered domain (host for IP addresses)
-- they linked (the record's own URL left out); undirected; weight = the author's records
-- linking the domain. Domain node ids are "domain:<domain>". A domain linked twice in a
-- record counts once (its first position).
WITH {{ author_values(domains, domain, domain) }},
{{ interaction_edges }}
