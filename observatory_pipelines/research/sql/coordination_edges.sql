-- Every co-sharing pair of accounts, before any cut: weight = distinct objects both shared
-- within the window, n_coshares = pairs of shares, first/last = the later share of the
-- first/last pair, median seconds between the two shares, a sample of 5 objects.
SELECT object_type,
       least(account_a, account_b) AS account_a,
       greatest(account_a, account_b) AS account_b,
       count(DISTINCT object) AS weight,
       count(*) AS n_coshares,
       min(coshared_at) AS first_coshare_at,
       max(coshared_at) AS last_coshare_at,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY delta_s) AS median_delta_s,
       (array_agg(DISTINCT object ORDER BY object))[1:5] AS objects
FROM research_coord_pairs
GROUP BY object_type, least(account_a, account_b), greatest(account_a, account_b)
