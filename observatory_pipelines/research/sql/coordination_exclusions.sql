-- Per object type: shares, and shares left out by reason. The accounts are counted from
-- the (account, reason) groups, hashed, not by a count(DISTINCT) sorting every share.
SELECT object_type,
       coalesce(sum(shares) FILTER (WHERE excluded IS NULL), 0)::bigint AS shares,
       count(*) FILTER (WHERE excluded IS NULL) AS accounts,
       coalesce(sum(shares) FILTER (WHERE excluded = 'self_link'), 0)::bigint
           AS excluded_self_link,
       coalesce(sum(shares) FILTER (WHERE excluded = 'news_arena'), 0)::bigint
           AS excluded_news_arena
FROM (SELECT object_type, account, excluded, count(*) AS shares
      FROM research_coord_shares
      GROUP BY object_type, account, excluded) AS s
GROUP BY object_type
ORDER BY object_type
