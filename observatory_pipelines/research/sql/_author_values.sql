-- Fragment: weights and node_counts (_interaction_edges.sql) of an author–value bipartite
-- network over the array column $1 of interaction_records; value node ids "$2:<value>", type
-- $3, labelled #<value> for hashtags and <value> otherwise. A value repeated in a record
-- counts once (its first position). No loops: a value node's id ("$2:…") is never an author
-- key (a pseudonym, or "name:<platform>:…").
-- One pass over the lists, narrow (no labels: they are functions of the value, made for the
-- kept nodes only), two groupings side by side (grouping sets, both hashed):
--   (author, value): the author's records holding the value, i.e. the edge weight;
--   (value, platform): the records holding the value on the platform, its frequency there.
-- An author's frequency is its records with any value, counted from interaction_records
-- itself, whose rows are records: no unnest for it.
used AS MATERIALIZED (  -- read three times: the kept edges, their count, the value nodes
    SELECT v.author_key, v.value, v.platform,
           GROUPING(v.author_key, v.value, v.platform) AS grouping_set,  -- 1, 4 as below
           count(*)::bigint AS records
    FROM (
        SELECT r.author_key, r.platform, r.$1 AS list,
               unnest(r.$1) AS value, generate_subscripts(r.$1, 1) AS n
        FROM interaction_records AS r
        WHERE r.author_key IS NOT NULL AND r.$1 IS NOT NULL
    ) AS v
    WHERE array_position(v.list, v.value) = v.n
    GROUP BY GROUPING SETS ((v.author_key, v.value), (v.value, v.platform))
),
weights AS NOT MATERIALIZED (
    SELECT u.author_key AS source, '$2:' || u.value AS target, u.records AS weight
    FROM used AS u
    WHERE u.grouping_set = 1
),
node_counts AS (
    SELECT r.author_key AS node, max(r.author_display_name COLLATE "C") AS label,
           'actor' AS node_type, r.platform, count(*)::bigint AS records
    FROM interaction_records AS r
    WHERE r.author_key IS NOT NULL AND r.$1 IS NOT NULL
    GROUP BY r.author_key, r.platform
    UNION ALL
    SELECT '$2:' || u.value,
           CASE WHEN '$3' = 'hashtag' THEN '#' || u.value ELSE u.value END, '$3', u.platform,
           u.records
    FROM used AS u
    WHERE u.grouping_set = 4
)
