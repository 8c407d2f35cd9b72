-- Actor–domain bipartite network: an author and a registered domain (host for IP addresses)
-- they linked; undirected; weight = the author's records linking the domain. A record's own
-- URL (self_reference) is left out. Domain node ids are "domain:<domain>".
WITH {{ interaction_scoped }},
domains AS (
    SELECT DISTINCT s.record_id, s.platform, s.author_key, s.author_display_name,
           coalesce(u.registered_domain, u.host) AS domain
    FROM scoped AS s
    JOIN enrichment_urls AS u ON u.record_id = s.record_id AND u.published_at = s.published_at
    WHERE u.url_type <> 'self_reference' AND s.author_key IS NOT NULL
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
