-- Fragment: weights and node_counts of a directed author → target network (mentions, replies,
-- quotes; the bipartite author–value networks count in _author_values.sql)
-- from the CTE "resolved" (platform, author_key, author_display_name, target, target_label,
-- target_type, first_target): ONE row per record and target (the query dedupes),
-- first_target true on exactly one row of each record; then its edges and nodes
-- (_interaction_edges.sql). Two passes over resolved (stored once, as it is read twice), each
-- hashed, none re-aggregated:
--   pairs (author, target): the records holding the pair, i.e. the edge weight; a narrow
--     aggregate of its own, since nearly every row is a pair of its own;
--   grouped, two groupings side by side (grouping sets): each target per platform (its
--     records there) and each author per platform (its records: their first_target rows,
--     and its loops).
-- Each record has one author, so the records of a target are the sum over its authors, and
-- those of an author are the first rows of its records; a record whose author is also its
-- target (a loop: a self-mention, an answer to oneself) holds that node once, so it is
-- subtracted once from the sum of the two sides.
pairs AS MATERIALIZED (  -- narrow: at 1 M records most of the rows are pairs
    SELECT r.author_key, r.target, count(*)::bigint AS records
    FROM resolved AS r
    GROUP BY r.author_key, r.target
),
grouped AS MATERIALIZED (
    SELECT r.author_key, r.target, r.platform,
           GROUPING(r.author_key, r.target, r.platform) AS grouping_set,  -- 4, 2 as below
           count(*)::bigint AS records,
           count(*) FILTER (WHERE r.first_target)::bigint AS author_records,
           count(*) FILTER (WHERE r.target = r.author_key)::bigint AS loops,
           max(r.author_display_name COLLATE "C") AS author_label,
           max(r.target_label COLLATE "C") AS target_label,
           max(r.target_type) AS target_type
    FROM resolved AS r
    GROUP BY GROUPING SETS ((r.target, r.platform), (r.author_key, r.platform))
),
weights AS NOT MATERIALIZED (  -- read twice (the kept edges, their count): from pairs
    SELECT g.author_key AS source, g.target, g.records AS weight
    FROM pairs AS g
    WHERE g.target <> g.author_key
),
node_counts AS (
    SELECT g.author_key AS node, g.author_label AS label, 'actor' AS node_type, g.platform,
           g.author_records - g.loops AS records
    FROM grouped AS g
    WHERE g.grouping_set = 2
    UNION ALL
    SELECT g.target, g.target_label, g.target_type, g.platform, g.records
    FROM grouped AS g
    WHERE g.grouping_set = 4
),
{{ interaction_edges }}
