-- Content propagation: per near-duplicate group whose dated members in the scope span two
-- or more platforms or outlets, its first record (origin), when each platform first carried
-- it and the lag from the origin, the time until half its records existed (the ceil(n/2)-th
-- record), its duration and the outlets in order of first appearance (origin first).
WITH dated AS (
    SELECT * FROM research_cluster_members WHERE NOT undated
),
undated AS (
    SELECT cluster_id, count(*) AS n FROM research_cluster_members WHERE undated GROUP BY 1
),
spread AS (
    SELECT cluster_id,
           count(*) AS n_records,
           count(DISTINCT platform || ':' || author) AS n_actors,
           count(DISTINCT platform) AS n_platforms,
           count(DISTINCT outlet) AS n_outlets,
           min(published_at) AS first_at,
           max(published_at) AS last_at
    FROM dated
    GROUP BY cluster_id
    HAVING count(DISTINCT platform) >= 2 OR count(DISTINCT outlet) >= 2
),
ranked AS (
    SELECT d.*,
           row_number() OVER (PARTITION BY d.cluster_id ORDER BY d.published_at, d.record_id)
               AS rank,
           count(*) OVER (PARTITION BY d.cluster_id) AS n
    FROM dated AS d
    JOIN spread USING (cluster_id)
),
origins AS (
    SELECT * FROM ranked WHERE rank = 1
),
platforms AS (
    SELECT p.cluster_id,
           jsonb_object_agg(p.platform, p.first_seen) AS first_seen_per_platform,
           jsonb_object_agg(p.platform,
                            round(extract(epoch FROM p.first_seen - o.published_at) / 60, 2))
               AS lag_min_per_platform
    FROM (SELECT cluster_id, platform, min(published_at) AS first_seen
          FROM ranked GROUP BY cluster_id, platform) AS p
    JOIN origins AS o USING (cluster_id)
    GROUP BY p.cluster_id
),
outlets AS (
    SELECT cluster_id, array_agg(outlet ORDER BY first_seen, outlet) AS sequence
    FROM (SELECT cluster_id, outlet, min(published_at) AS first_seen
          FROM ranked GROUP BY cluster_id, outlet) AS x
    GROUP BY cluster_id
)
SELECT s.cluster_id,
       s.n_records,
       s.n_actors,
       s.n_platforms,
       s.n_outlets,
       coalesce(u.n, 0) AS n_undated_excluded,
       o.record_id AS origin_record_id,
       o.platform AS origin_platform,
       o.outlet AS origin_outlet,
       o.published_at AS origin_published_at,
       p.first_seen_per_platform,
       p.lag_min_per_platform,
       round(extract(epoch FROM h.published_at - o.published_at) / 60, 2) AS t50_minutes,
       round(extract(epoch FROM s.last_at - s.first_at) / 3600, 4) AS duration_hours,
       x.sequence
FROM spread AS s
JOIN origins AS o ON o.cluster_id = s.cluster_id
JOIN platforms AS p ON p.cluster_id = s.cluster_id
JOIN outlets AS x ON x.cluster_id = s.cluster_id
JOIN ranked AS h ON h.cluster_id = s.cluster_id AND h.rank = ceil(h.n / 2.0)
LEFT JOIN undated AS u ON u.cluster_id = s.cluster_id
ORDER BY s.n_platforms DESC, s.n_outlets DESC, s.n_records DESC, o.published_at, s.cluster_id
LIMIT :top_clusters
