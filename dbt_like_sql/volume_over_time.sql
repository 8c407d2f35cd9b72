-- Records per period (UTC buckets; weeks start on Monday), with per-arena and per-platform counts.
-- params: granularity
-- depends_on: stg_content
-- order_by: period
WITH cells AS (
    SELECT date_trunc(CAST(:granularity AS text), s.hour, 'UTC') AS period,
           s.arena, s.platform, sum(s.records)::bigint AS n
    FROM stg_content AS s
    WHERE s.facet = 'volume'
    GROUP BY 1, 2, 3
)
SELECT t.period, t.count, a.arenas, p.platforms
FROM (SELECT period, sum(n)::bigint AS count FROM cells GROUP BY period) AS t
JOIN (SELECT period, jsonb_object_agg(arena, n) AS arenas
      FROM (SELECT period, arena, sum(n)::bigint AS n FROM cells GROUP BY 1, 2) AS x
      GROUP BY period) AS a USING (period)
JOIN (SELECT period, jsonb_object_agg(platform, n) AS platforms
      FROM (SELECT period, platform, sum(n)::bigint AS n FROM cells GROUP BY 1, 2) AS y
      GROUP BY period) AS p USING (period)
