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
actors AS (
    SELECT m.platform || ':' || m.author AS actor
    FROM mined AS m
    JOIN network_domains USING (registered_domain)
    WHERE m.author IS NOT NULL
    GROUP BY m.platform, m.author
    ORDER BY count(DISTINCT m.record_id) DESC, actor
    LIMIT :network_actors
)
SELECT e.* FROM edges AS e JOIN actors USING (actor) ORDER BY e.actor, e.domain
