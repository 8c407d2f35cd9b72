-- Every linked registered domain with the records linking to it and its rank (most records
-- first, ties by name): stored as a temp table, the top lists, the matrix and the networks
-- take their domains from it. A domain's records are the sum over its authors
-- (research_domain_authors: one platform and author per record).
SELECT registered_domain,
       sum(n_records)::bigint AS n_records,
       row_number() OVER (ORDER BY sum(n_records) DESC, registered_domain) AS rank
FROM research_domain_authors
GROUP BY registered_domain
