-- Per object type, the accounts of the kept edges: display name, platform, shares paired
-- (exclusions applied).
WITH {{ coordination_kept }},
members AS (
    SELECT object_type, account_a AS account FROM kept
    UNION
    SELECT object_type, account_b FROM kept
)
SELECT s.object_type,
       s.account,
       s.platform,
       max(s.author_name) AS name,
       count(*) AS n_shares
FROM research_coord_shares AS s
JOIN members USING (object_type, account)
WHERE s.excluded IS NULL
GROUP BY s.object_type, s.account, s.platform
ORDER BY s.object_type, s.account
