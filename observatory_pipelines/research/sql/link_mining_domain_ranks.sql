-- Every linked registered domain with the records linking to it and its rank (most records
-- first, ties by name): stored as a temp table, the top lists, the matrix and the networks
-- take their domains from it.
WITH {{ mined_links }}
SELECT registered_domain,
       count(DISTINCT record_id) AS n_records,
       row_number() OVER (ORDER BY count(DISTINCT record_id) DESC, registered_domain) AS rank
FROM mined
WHERE registered_domain IS NOT NULL
GROUP BY registered_domain
