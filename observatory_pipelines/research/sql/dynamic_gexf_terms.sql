-- Time-sliced search-term network: two of the design's terms matched by one record of the
-- bucket (records since :since); see _dynamic_edges.sql.
WITH {{ interaction_scoped }},
terms AS (
    SELECT DISTINCT s.record_id, s.platform, t.term,
           date_trunc(CAST(:granularity AS text), s.published_at AT TIME ZONE 'UTC')::date AS bucket
    FROM scoped AS s
    CROSS JOIN LATERAL unnest(s.terms) AS t(term)
    WHERE s.published_at >= CAST(:since AS timestamptz)
),
occurrences AS (
    SELECT t.record_id AS unit, t.bucket, t.term AS node, t.term AS label,
           'term' AS node_type, t.platform
    FROM terms AS t
),
links AS (
    SELECT a.record_id AS unit, a.bucket, a.term AS source, b.term AS target
    FROM terms AS a
    JOIN terms AS b ON b.record_id = a.record_id AND a.term COLLATE "C" < b.term COLLATE "C"
),
{{ dynamic_edges }}
