-- Fragment: pair_counts and node_counts of an author → target network (directed, or
-- bipartite) from the CTE "resolved" (platform, author_key, author_display_name, target,
-- target_label, target_type, first_target): ONE row per record and target (the query
-- dedupes), first_target true on exactly one row of each record; then its edges and nodes
-- (_interaction_edges.sql). Each record has one author, so a target's records are the sum
-- over its authors, and an author's are its records' first rows; a record whose author is
-- also its target (a loop: a self-mention, an answer to oneself) holds that node once, so
-- it is subtracted once from the two sides' sum.
counted AS (
    SELECT r.author_key, r.platform, r.target, r.target_label, r.target_type,
           count(*)::bigint AS records
    FROM resolved AS r
    GROUP BY r.author_key, r.platform, r.target, r.target_label, r.target_type
),
authors AS (
    SELECT r.author_key, r.author_display_name, r.platform, count(*)::bigint AS records
    FROM resolved AS r
    WHERE r.first_target
    GROUP BY r.author_key, r.author_display_name, r.platform
),
pair_counts AS (
    SELECT c.author_key AS source, c.target, c.records
    FROM counted AS c
),
node_counts AS (
    SELECT a.author_key AS node, a.author_display_name AS label, 'actor' AS node_type,
           a.platform, a.records
    FROM authors AS a
    UNION ALL
    SELECT c.target, c.target_label, c.target_type, c.platform, c.records
    FROM counted AS c
    UNION ALL
    SELECT c.author_key, NULL, NULL, c.platform, -c.records
    FROM counted AS c
    WHERE c.target = c.author_key
),
{{ interaction_edges }}
