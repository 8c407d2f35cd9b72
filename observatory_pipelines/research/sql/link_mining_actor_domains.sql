-- Edges of the actor -> domain network: records of an author (platform-scoped pseudonym)
-- linking to one of the network's domains, for the :network_actors authors with the most
-- such records (ties by name), so the network stays one Gephi and Louvain can handle.
WITH {{ mined_links }},
{{ network_domains }},
actors AS (  -- records counted from the distinct (author, record) rows, hashed
    SELECT platform, author, platform || ':' || author AS actor
    FROM (SELECT DISTINCT m.platform, m.author, m.record_id
          FROM mined AS m
          JOIN network_domains USING (registered_domain)
          WHERE m.author IS NOT NULL) AS r
    GROUP BY platform, author
    ORDER BY count(*) DESC, actor
    LIMIT :network_actors
)
-- research_domain_authors holds the edges: one row per (domain, platform, author); joined on
-- the key, hashed (a join on the actor string sorted every edge by it to merge)
SELECT k.actor,
       a.author_name AS actor_name,
       a.platform,
       a.registered_domain AS domain,
       a.n_records AS weight
FROM research_domain_authors AS a
JOIN network_domains USING (registered_domain)
JOIN actors AS k USING (platform, author)
ORDER BY k.actor, a.registered_domain
