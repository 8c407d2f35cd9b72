-- Time-sliced co-hashtag network: two hashtags in one record of the bucket (records since
-- :since, the first bucket kept); see _dynamic_edges.sql.
WITH {{ interaction_scoped }},
tags AS (
    SELECT DISTINCT s.record_id, s.platform, t.tag,
           date_trunc(CAST(:granularity AS text), s.published_at AT TIME ZONE 'UTC')::date AS bucket
    FROM scoped AS s
    JOIN enrichment_tags AS e ON e.record_id = s.record_id AND e.published_at = s.published_at
    CROSS JOIN LATERAL unnest(e.hashtags) AS t(tag)
    WHERE s.published_at >= CAST(:since AS timestamptz)
),
occurrences AS (
    SELECT t.record_id AS unit, t.bucket, t.tag AS node, '#' || t.tag AS label,
           'hashtag' AS node_type, t.platform
    FROM tags AS t
),
links AS (
    SELECT a.record_id AS unit, a.bucket, a.tag AS source, b.tag AS target
    FROM tags AS a
    JOIN tags AS b ON b.record_id = a.record_id AND a.tag COLLATE "C" < b.tag COLLATE "C"
),
{{ dynamic_edges }}
