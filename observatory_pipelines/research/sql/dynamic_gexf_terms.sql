-- Time-sliced search-term network: two of the design's terms matched by one record of the
-- bucket, paired within the record; see _dynamic_edges.sql.
WITH {{ dynamic_recent }},
occurrences AS (
    SELECT r.record_id AS unit, r.bucket, t.term AS node, t.term AS label,
           'term' AS node_type, r.platform
    FROM recent AS r
    CROSS JOIN LATERAL unnest(r.terms) AS t(term)
),
links AS (
    SELECT r.record_id AS unit, r.bucket, a.term AS source, b.term AS target
    FROM recent AS r
    CROSS JOIN LATERAL unnest(r.terms) AS a(term)
    CROSS JOIN LATERAL unnest(r.terms) AS b(term)
    WHERE cardinality(r.terms) > 1 AND a.term COLLATE "C" < b.term COLLATE "C"
),
{{ dynamic_edges }}
