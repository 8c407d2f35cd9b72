-- Actor–domain bipartite network: an author and a registered domain (host for IP addresses)
-- they linked (the record's own URL left out); undirected; weight = the author's records
-- linking the domain. Domain node ids are "domain:<domain>".
WITH domains AS (
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name, d.domain
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.domains) AS d(domain)
    WHERE r.author_key IS NOT NULL
),
occurrences AS (
    SELECT d.record_id, d.author_key AS node, d.author_display_name AS label,
           'actor' AS node_type, d.platform
    FROM domains AS d
    UNION ALL
    SELECT d.record_id, 'domain:' || d.domain, d.domain, 'domain', d.platform
    FROM domains AS d
),
links AS (
    SELECT d.record_id, d.author_key AS source, 'domain:' || d.domain AS target
    FROM domains AS d
),
{{ interaction_edges }}
