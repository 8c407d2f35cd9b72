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
node_counts AS (  -- one row per record of dynamic_records: count(*) counts records
    SELECT a.bucket, a.author_key AS node, a.author_display_name AS label,
           'actor' AS node_type, a.platform, count(*)::bigint AS records
    FROM active AS a
    GROUP BY a.bucket, a.author_key, a.author_display_name, a.platform
),
weights AS (  -- each (bucket, term) lists its authors once: one unit per row
    SELECT r.bucket, a.value AS source, b.value AS target, count(*)::bigint AS weight
    FROM term_authors AS r
    {{ pairs_within(authors) }}
    GROUP BY r.bucket, a.value, b.value
),
{{ dynamic_edges }}
