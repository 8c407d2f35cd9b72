-- Fragment: weights and node_counts of a co-occurrence network from the CTE "lists"
-- (bucket, platform, list, labels, node_type, records): the records of one bucket (NULL for a
-- network without time) and platform holding the same list of values, counted once with
-- their number (records). Grouping identical lists first is what keeps this cheap: a design's
-- records repeat a few thousand tag or term lists, so pairs are built per list, not per record.
-- A value's label is labels[n] when the list has labels, else #value for hashtags and the
-- value itself otherwise. A value repeated within a list counts once (its first position):
-- so a pair's records and a node's records are each record counted once, as 4CAT counts.
-- The lists are unnested in the select list (ProjectSet), not by lateral function scans,
-- which store the values of every list (and, for the pairs, of every value) in a tuplestore.
elements AS (
    SELECT e.bucket, e.platform, e.node_type, e.value AS node,
           CASE WHEN e.labels IS NOT NULL THEN e.labels[e.n]
                WHEN e.node_type = 'hashtag' THEN '#' || e.value
                ELSE e.value END AS label,
           CASE WHEN array_position(e.list, e.value) = e.n THEN e.records ELSE 0 END AS records
    FROM (
        SELECT l.*, unnest(l.list) AS value, generate_subscripts(l.list, 1) AS n
        FROM lists AS l
    ) AS e
),
node_counts AS (
    SELECT e.bucket, e.node, e.label, e.node_type, e.platform, e.records
    FROM elements AS e
),
weights AS (  -- the records of a pair, summed over the lists holding it (source < target: no loops)
    SELECT p.bucket, p.source, p.target, sum(p.records)::bigint AS weight
    FROM (
        SELECT s.bucket, s.records, s.value AS source, s.list,
               unnest(s.list) AS target, generate_subscripts(s.list, 1) AS m
        FROM (
            SELECT l.bucket, l.records, l.list,
                   unnest(l.list) AS value, generate_subscripts(l.list, 1) AS n
            FROM lists AS l
            WHERE cardinality(l.list) > 1
        ) AS s
        WHERE array_position(s.list, s.value) = s.n
    ) AS p
    WHERE p.source COLLATE "C" < p.target COLLATE "C" AND array_position(p.list, p.target) = p.m
    GROUP BY p.bucket, p.source, p.target
)
