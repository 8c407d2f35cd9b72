-- Fragment: a time-sliced co-occurrence network of the array column $1 of "recent" (nodes of
-- type $2: hashtags labelled #tag, other values as they are): two values of one record of
-- the bucket, paired within the record; see _dynamic_edges.sql.
occurrences AS (
    SELECT r.record_id AS unit, r.bucket, t.value AS node,
           CASE WHEN '$2' = 'hashtag' THEN '#' || t.value ELSE t.value END AS label,
           '$2' AS node_type, r.platform
    FROM recent AS r
    CROSS JOIN LATERAL unnest(r.$1) AS t(value)
),
links AS (
    SELECT r.record_id AS unit, r.bucket, a.value AS source, b.value AS target
    FROM recent AS r
    {{ pairs_within($1) }}
),
{{ dynamic_edges }}
