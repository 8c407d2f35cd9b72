-- Actor co-occurrence: two authors are linked when they matched the same search term.
-- weight = the number of distinct terms both matched (each unordered pair counted once, pair key
-- source < target); shared_terms lists them. Candidates are the actor_limit most active authors,
-- which bounds the pair computation; keep weight >= actor_min_weight, top actor_edge_limit edges.
-- params: actor_limit, actor_min_weight, actor_edge_limit
-- depends_on: actor_terms, actor_nodes
-- order_by: weight DESC, source, target
WITH candidates AS (
    SELECT n.author_key
    FROM actor_nodes AS n
    ORDER BY n.post_count DESC, n.author_key
    LIMIT CAST(:actor_limit AS integer)
),
terms AS (
    SELECT at.author_key, at.term
    FROM actor_terms AS at
    JOIN candidates USING (author_key)
),
pairs AS (
    SELECT a.author_key AS source, b.author_key AS target, count(*)::bigint AS weight
    FROM terms AS a
    JOIN terms AS b ON b.term = a.term AND a.author_key < b.author_key COLLATE "C"
    GROUP BY 1, 2
    HAVING count(*) >= CAST(:actor_min_weight AS integer)
    ORDER BY weight DESC, source, target
    LIMIT CAST(:actor_edge_limit AS integer)
),
-- the terms of the kept pairs only (hashing every candidate pair's weight first, instead of
-- sorting all of them to aggregate their term lists)
shared AS (
    SELECT p.source, p.target, array_agg(a.term ORDER BY a.term) AS shared_terms
    FROM pairs AS p
    JOIN terms AS a ON a.author_key = p.source
    JOIN terms AS b ON b.author_key = p.target AND b.term = a.term
    GROUP BY 1, 2
)
SELECT p.source, p.target, p.weight, sh.shared_terms,
       ns.label AS source_label, ns.platform AS source_platform, ns.post_count AS source_post_count,
       nt.label AS target_label, nt.platform AS target_platform, nt.post_count AS target_post_count
FROM pairs AS p
JOIN shared AS sh USING (source, target)
JOIN actor_nodes AS ns ON ns.author_key = p.source
JOIN actor_nodes AS nt ON nt.author_key = p.target
