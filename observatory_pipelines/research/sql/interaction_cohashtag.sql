-- Co-hashtag network: two hashtags (enrichment_tags, casefolded: #Grønland = #grønland) of one
-- record, paired within the record (source < target: undirected, no loops); a tag's frequency
-- counts every record holding it, also those with no second tag. Reads interaction_records,
-- its records with the same tag list on one platform counted once (_list_counts.sql).
WITH lists AS (
    SELECT NULL::date AS bucket, r.platform, r.hashtags AS list, NULL::text[] AS labels,
           'hashtag' AS node_type, count(*)::bigint AS records
    FROM interaction_records AS r
    WHERE cardinality(r.hashtags) > 0
    GROUP BY r.platform, r.hashtags
),
{{ list_counts }},
{{ interaction_edges }}
