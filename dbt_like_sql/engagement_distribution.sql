-- Per platform and over all platforms ('_all'): n (non-NULL values), mean, median, p95 and max of
-- likes, shares, comments, views and engagement (likes + shares + comments, NULL as 0), 2 dp.
-- Computed exactly from the value histograms of stg_content (facets 'counts' and 'views'):
-- the value at 0-based rank k is the first value whose cumulative count exceeds k, and the
-- percentiles interpolate like percentile_cont (position f * (n - 1), float8 arithmetic).
-- depends_on: stg_content
-- order_by: is_total, platform
WITH platforms AS (
    SELECT s.platform, sum(s.records)::bigint AS records
    FROM stg_content AS s
    WHERE s.facet = 'volume'
    GROUP BY s.platform
),
observations AS (
    SELECT s.platform, m.metric, m.value, s.records
    FROM stg_content AS s
    CROSS JOIN LATERAL (VALUES
        ('likes', s.likes_count),
        ('shares', s.shares_count),
        ('comments', s.comments_count),
        ('engagement', coalesce(s.likes_count, 0) + coalesce(s.shares_count, 0)
                       + coalesce(s.comments_count, 0))
    ) AS m(metric, value)
    WHERE s.facet = 'counts'
    UNION ALL
    SELECT s.platform, 'views', s.views_count, s.records
    FROM stg_content AS s
    WHERE s.facet = 'views'
),
histogram AS (
    SELECT CASE WHEN grouping(o.platform) = 1 THEN '_all' ELSE o.platform END AS platform,
           o.metric, o.value, sum(o.records)::bigint AS records
    FROM observations AS o
    WHERE o.value IS NOT NULL
    GROUP BY GROUPING SETS ((o.platform, o.metric, o.value), (o.metric, o.value))
),
-- upto and n as bigint: the percentile filters below then compare bigint with float8 (was
-- numeric, converted per row and filter); the partitions sort in byte order (their order is not
-- an output: stats groups them again).
ranked AS (
    SELECT h.*,
           CAST(sum(h.records) OVER (PARTITION BY h.platform COLLATE "C", h.metric COLLATE "C"
                                     ORDER BY h.value) AS bigint) AS upto,
           CAST(sum(h.records) OVER (PARTITION BY h.platform COLLATE "C", h.metric COLLATE "C")
                AS bigint) AS n
    FROM histogram AS h
),
positions AS (
    SELECT r.*, CAST(0.5 AS float8) * (r.n - 1) AS p50, CAST(0.95 AS float8) * (r.n - 1) AS p95
    FROM ranked AS r
),
stats AS (
    SELECT p.platform, p.metric,
           jsonb_build_object(
               'n', max(p.n)::bigint,
               'mean', round(sum(p.value * p.records)::numeric / max(p.n), 2)::float8,
               'median', round({{ histogram_percentile('p50') }}::numeric, 2)::float8,
               'p95', round({{ histogram_percentile('p95') }}::numeric, 2)::float8,
               'max', max(p.value)
           ) AS summary
    FROM positions AS p
    GROUP BY p.platform, p.metric
),
rows AS (
    SELECT platform, 0 AS is_total, records FROM platforms
    UNION ALL
    SELECT '_all', 1, coalesce(sum(records), 0)::bigint FROM platforms
),
empty AS (
    SELECT jsonb_build_object('n', 0, 'mean', NULL, 'median', NULL, 'p95', NULL, 'max', NULL)
        AS summary
)
SELECT r.platform, r.is_total, r.records,
       coalesce(j.summaries -> 'likes', e.summary) AS likes,
       coalesce(j.summaries -> 'shares', e.summary) AS shares,
       coalesce(j.summaries -> 'comments', e.summary) AS comments,
       coalesce(j.summaries -> 'views', e.summary) AS views,
       coalesce(j.summaries -> 'engagement', e.summary) AS engagement
FROM rows AS r
CROSS JOIN empty AS e
LEFT JOIN (SELECT platform, jsonb_object_agg(metric, summary) AS summaries
           FROM stats GROUP BY platform) AS j USING (platform)
