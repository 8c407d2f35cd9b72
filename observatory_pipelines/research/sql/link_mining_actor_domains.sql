-- Edges of the actor -> domain network: records of an author (platform-scoped pseudonym)
-- linking to one of the network's domains.
WITH {{ mined_links }},
{{ network_domains }}
SELECT m.platform || ':' || m.author AS actor,
       max(m.author_name) AS actor_name,
       m.platform,
       m.registered_domain AS domain,
       count(DISTINCT m.record_id) AS weight
FROM mined AS m
JOIN network_domains USING (registered_domain)
WHERE m.author IS NOT NULL
GROUP BY m.platform, m.author, m.registered_domain
ORDER BY actor, domain
