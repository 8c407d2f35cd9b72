-- Per object type: shares, and shares left out by reason.
SELECT object_type,
       count(*) FILTER (WHERE excluded IS NULL) AS shares,
       count(DISTINCT account) FILTER (WHERE excluded IS NULL) AS accounts,
       count(*) FILTER (WHERE excluded = 'self_link') AS excluded_self_link,
       count(*) FILTER (WHERE excluded = 'news_arena') AS excluded_news_arena
FROM research_coord_shares
GROUP BY object_type
ORDER BY object_type
