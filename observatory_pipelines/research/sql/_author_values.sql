-- Fragment: the CTE "resolved" (_interaction_resolved.sql) of an author → value network over
-- the array column $1 of interaction_records: one row per record and distinct value (a value
-- repeated in a record counts once, at its first position), the node id "$2:<value>", type
-- $3, labelled #<value> for hashtags and <value> otherwise.
resolved AS (
    SELECT v.platform, v.author_key, v.author_display_name,
           '$2:' || v.value AS target,
           CASE WHEN '$3' = 'hashtag' THEN '#' || v.value ELSE v.value END AS target_label,
           '$3' AS target_type, v.n = 1 AS first_target
    FROM (
        SELECT r.platform, r.author_key, r.author_display_name, r.$1 AS list, e.value, e.n
        FROM interaction_records AS r
        CROSS JOIN LATERAL unnest(r.$1) WITH ORDINALITY AS e(value, n)
        WHERE r.author_key IS NOT NULL AND r.$1 IS NOT NULL
    ) AS v
    WHERE array_position(v.list, v.value) = v.n
)
