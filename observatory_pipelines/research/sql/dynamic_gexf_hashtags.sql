-- Time-sliced co-hashtag network: two hashtags of one record of the bucket, paired within the
-- record; see _dynamic_edges.sql.
WITH {{ dynamic_recent }},
occurrences AS (
    SELECT r.record_id AS unit, r.bucket, t.tag AS node, '#' || t.tag AS label,
           'hashtag' AS node_type, r.platform
    FROM recent AS r
    CROSS JOIN LATERAL unnest(r.hashtags) AS t(tag)
),
links AS (
    SELECT r.record_id AS unit, r.bucket, a.tag AS source, b.tag AS target
    FROM recent AS r
    CROSS JOIN LATERAL unnest(r.hashtags) AS a(tag)
    CROSS JOIN LATERAL unnest(r.hashtags) AS b(tag)
    WHERE cardinality(r.hashtags) > 1 AND a.tag COLLATE "C" < b.tag COLLATE "C"
),
{{ dynamic_edges }}
