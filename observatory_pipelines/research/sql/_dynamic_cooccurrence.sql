-- Fragment: a time-sliced co-occurrence network of the array column $1 of "recent" (nodes of
-- type $2: hashtags labelled #tag, other values as they are): two values of one record of
-- the bucket, paired within the record; the records of one bucket and platform with the same
-- list counted once (_list_counts.sql); see _dynamic_edges.sql.
lists AS (
    SELECT r.bucket, r.platform, r.$1 AS list, NULL::text[] AS labels, '$2' AS node_type,
           count(*)::bigint AS records
    FROM recent AS r
    WHERE cardinality(r.$1) > 0
    GROUP BY r.bucket, r.platform, r.$1
),
{{ list_counts }},
{{ dynamic_edges }}
