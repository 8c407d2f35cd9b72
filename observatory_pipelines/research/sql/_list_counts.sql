-- Fragment: weights and node_counts of a co-occurrence network from the CTE "lists"
-- (bucket, platform, list, labels, node_type, records): the records of one bucket (NULL for a
-- network without time) and platform holding the same list of values, counted once with
-- their number (records). Grouping identical lists first is what keeps this cheap: a design's
-- records repeat a few thousand tag or term lists, so pairs are built per list, not per record.
-- A value's label is labels[n] when the list has labels, else #value for hashtags and the
-- value itself otherwise. A value repeated within a list counts once (its first position):
-- so a pair's records and a node's records are each record counted once, as 4CAT counts.
elements AS (
    SELECT l.bucket, l.platform, l.node_type, e.value AS node,
           CASE WHEN l.labels IS NOT NULL THEN l.labels[e.n]
                WHEN l.node_type = 'hashtag' THEN '#' || e.value
                ELSE e.value END AS label,
           CASE WHEN array_position(l.list, e.value) = e.n THEN l.records ELSE 0 END AS records
    FROM lists AS l
    CROSS JOIN LATERAL unnest(l.list) WITH ORDINALITY AS e(value, n)
),
node_counts AS (
    SELECT e.bucket, e.node, e.label, e.node_type, e.platform, e.records
    FROM elements AS e
),
weights AS (  -- the records of a pair, summed over the lists holding it (source < target: no loops)
    SELECT l.bucket, a.value AS source, b.value AS target, sum(l.records)::bigint AS weight
    FROM lists AS l
    CROSS JOIN LATERAL unnest(l.list) WITH ORDINALITY AS a(value, n)
    CROSS JOIN LATERAL unnest(l.list) WITH ORDINALITY AS b(value, n)
    WHERE cardinality(l.list) > 1 AND a.value COLLATE "C" < b.value COLLATE "C"
      AND array_position(l.list, a.value) = a.n AND array_position(l.list, b.value) = b.n
    GROUP BY l.bucket, a.value, b.value
)
