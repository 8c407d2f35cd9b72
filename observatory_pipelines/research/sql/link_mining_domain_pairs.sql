-- Edges of the domain co-occurrence network: two of the network's domains linked from the
-- same record; weight = records linking to both.
WITH {{ mined_links }},
{{ network_domains }},
record_domains AS (
    SELECT DISTINCT m.record_id, m.registered_domain
    FROM mined AS m
    JOIN network_domains USING (registered_domain)
)
SELECT a.registered_domain AS source, b.registered_domain AS target, count(*) AS weight
FROM record_domains AS a
JOIN record_domains AS b
  ON b.record_id = a.record_id AND b.registered_domain > a.registered_domain
GROUP BY a.registered_domain, b.registered_domain
ORDER BY source, target
