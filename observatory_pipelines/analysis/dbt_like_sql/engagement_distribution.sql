-- Per platform and over all platforms ('_all'): n (non-NULL values), mean, median, p95 and max of
-- likes, shares, comments, views and engagement (likes + shares + comments, NULL as 0), 2 dp.
-- depends_on: stg_content
-- order_by: is_total, platform
SELECT CASE WHEN grouping(s.platform) = 1 THEN '_all' ELSE s.platform END AS platform,
       grouping(s.platform) AS is_total,
       count(*)::bigint AS records,
       {{ metric_stats('likes_count', 'likes') }},
       {{ metric_stats('shares_count', 'shares') }},
       {{ metric_stats('comments_count', 'comments') }},
       {{ metric_stats('views_count', 'views') }},
       {{ metric_stats('engagement', 'engagement') }}
FROM stg_content AS s
GROUP BY GROUPING SETS ((s.platform), ())
