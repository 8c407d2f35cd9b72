-- The edges of the co-sharing network (past both cuts), heaviest first.
WITH {{ coordination_kept }}
SELECT object_type,
       account_a,
       account_b,
       split_part(account_a, ':', 1) AS platform_a,
       split_part(account_b, ':', 1) AS platform_b,
       weight,
       n_coshares,
       first_coshare_at,
       last_coshare_at,
       round(median_delta_s::numeric, 3) AS median_delta_s,
       objects
FROM kept
ORDER BY object_type, weight DESC, n_coshares DESC, account_a, account_b
