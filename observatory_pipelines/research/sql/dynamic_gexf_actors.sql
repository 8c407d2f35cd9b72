-- Time-sliced actor network (the original's actor snapshots): two authors linked in a bucket
-- when both matched the same search term in it; weight = distinct terms both matched there
-- (the unit counted is the term), frequency = the author's records in the bucket. Only the
-- actor_limit most active authors of the scope (since :since) take part: that bounds the pairs.
WITH {{ interaction_scoped }},
recent AS (
    SELECT s.record_id, s.platform, s.author_key, s.author_display_name, s.terms,
           date_trunc(CAST(:granularity AS text), s.published_at AT TIME ZONE 'UTC')::date AS bucket
    FROM scoped AS s
    WHERE s.published_at >= CAST(:since AS timestamptz) AND s.author_key IS NOT NULL
),
candidates AS (
    SELECT r.author_key
    FROM recent AS r
    GROUP BY r.author_key
    ORDER BY count(*) DESC, r.author_key COLLATE "C"
    LIMIT CAST(:actor_limit AS integer)
),
active AS (
    SELECT r.*
    FROM recent AS r
    JOIN candidates AS k ON k.author_key = r.author_key
),
author_terms AS (
    SELECT DISTINCT a.bucket, a.author_key, t.term
    FROM active AS a
    CROSS JOIN LATERAL unnest(a.terms) AS t(term)
),
occurrences AS (
    SELECT CAST(a.record_id AS text) AS unit, a.bucket, a.author_key AS node,
           a.author_display_name AS label, 'actor' AS node_type, a.platform
    FROM active AS a
),
links AS (
    SELECT a.term AS unit, a.bucket, a.author_key AS source, b.author_key AS target
    FROM author_terms AS a
    JOIN author_terms AS b
        ON b.bucket = a.bucket AND b.term = a.term
       AND a.author_key COLLATE "C" < b.author_key COLLATE "C"
),
{{ dynamic_edges }}
