-- Edges of the actor -> domain network: records of an author (platform-scoped pseudonym)
-- linking to one of the network's domains, for the :network_actors authors with the most
-- such records (ties by name), so the network stays one Gephi and Louvain can handle.
WITH {{ mined_links }},
{{ network_domains }},
edges AS (  -- research_domain_authors holds them: one row per (domain, platform, author)
    SELECT a.platform || ':' || a.author AS actor,
           a.author_name AS actor_name,
           a.platform,
           a.registered_domain AS domain,
           a.n_records AS weight
    FROM research_domain_authors AS a
    JOIN network_domains USING (registered_domain)
    WHERE a.author IS NOT NULL
),
actors AS (  -- records counted from the distinct (author, record) rows, hashed
    SELECT platform || ':' || author AS actor
    FROM (SELECT DISTINCT m.platform, m.author, m.record_id
          FROM mined AS m
          JOIN network_domains USING (registered_domain)
          WHERE m.author IS NOT NULL) AS r
    GROUP BY platform, author
    ORDER BY count(*) DESC, actor
    LIMIT :network_actors
)
SELECT e.* FROM edges AS e JOIN actors USING (actor) ORDER BY e.actor, e.domain
