-- The coordinated shares: each share (account, record, object) in a co-share of a kept edge.
WITH {{ coordination_kept }},
kept_pairs AS (
    SELECT p.*
    FROM research_coord_pairs AS p
    JOIN kept AS k
      ON k.object_type = p.object_type
     AND k.account_a = least(p.account_a, p.account_b)
     AND k.account_b = greatest(p.account_a, p.account_b)
)
SELECT object_type, account_a AS account, record_a AS record_id, object FROM kept_pairs
UNION
SELECT object_type, account_b, record_b, object FROM kept_pairs
ORDER BY object_type, account, object, record_id
