-- Time-sliced actor network (the original's actor snapshots): two authors linked in a bucket
-- when both matched the same search term in it; weight = distinct terms both matched there
-- (the unit counted is the term: pairs are built within each (bucket, term)'s author list),
-- frequency = the author's records in the bucket. Only the actor_limit most active authors
-- of the records kept take part: that bounds the pairs.
WITH {{ dynamic_recent }},
candidates AS (
    SELECT r.author_key
    FROM recent AS r
    WHERE r.author_key IS NOT NULL
    GROUP BY r.author_key
    ORDER BY count(*) DESC, r.author_key COLLATE "C"
    LIMIT CAST(:actor_limit AS integer)
),
active AS (
    SELECT r.*
    FROM recent AS r
    WHERE r.author_key IN (SELECT k.author_key FROM candidates AS k)
),
term_authors AS (
    SELECT a.bucket, t.term, array_agg(DISTINCT a.author_key) AS authors
    FROM active AS a
    CROSS JOIN LATERAL unnest(a.terms) AS t(term)
    GROUP BY a.bucket, t.term
),
occurrences AS (
    SELECT CAST(a.record_id AS text) AS unit, a.bucket, a.author_key AS node,
           a.author_display_name AS label, 'actor' AS node_type, a.platform
    FROM active AS a
),
links AS (
    SELECT r.term AS unit, r.bucket, a.value AS source, b.value AS target
    FROM term_authors AS r
    {{ pairs_within(authors) }}
),
{{ dynamic_edges }}
