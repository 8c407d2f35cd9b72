-- Co-hashtag network: two hashtags (enrichment_tags, casefolded: #Grønland = #grønland) of one
-- record, paired within the record (source < target: undirected, no loops); a tag's frequency
-- counts every record holding it, also those with no second tag. Reads interaction_records.
WITH occurrences AS (
    SELECT r.record_id, t.tag AS node, '#' || t.tag AS label, 'hashtag' AS node_type, r.platform
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.hashtags) AS t(tag)
),
links AS (
    SELECT r.record_id, a.value AS source, b.value AS target
    FROM interaction_records AS r
    {{ pairs_within(hashtags) }}
),
{{ interaction_edges }}
