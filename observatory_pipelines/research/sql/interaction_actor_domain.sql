-- Actor–domain bipartite network: an author and a registered domain (host for IP addresses)
-- they linked (the record's own URL left out); undirected; weight = the author's records
-- linking the domain. Domain node ids are "domain:<domain>". A record's domains are
-- distinct (interaction_records.sql).
WITH resolved AS (
    SELECT r.platform, r.author_key, r.author_display_name,
           'domain:' || d.domain AS target, d.domain AS target_label, 'domain' AS target_type,
           d.n = 1 AS first_target
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.domains) WITH ORDINALITY AS d(domain, n)
    WHERE r.author_key IS NOT NULL
),
{{ interaction_resolved }}
