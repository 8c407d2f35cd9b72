-- Two runs of the design side by side (each run = the records its id is on the link of, the
-- scope's other filters applied): records per arena of each, and the distinct contents
-- (content_hash, else the record) of each and of both.
WITH records AS (
    SELECT c.arena, coalesce(c.content_hash, CAST(c.id AS text)) AS content,
           CAST(:run_1 AS uuid) = ANY (l.collection_run_ids) AS in_1,
           CAST(:run_2 AS uuid) = ANY (l.collection_run_ids) AS in_2
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
      AND l.collection_run_ids && ARRAY[CAST(:run_1 AS uuid), CAST(:run_2 AS uuid)]
),
contents AS (
    SELECT content, bool_or(in_1) AS in_1, bool_or(in_2) AS in_2 FROM records GROUP BY content
)
SELECT 'arena' AS kind, arena AS value,
       count(*) FILTER (WHERE in_1) AS run_1, count(*) FILTER (WHERE in_2) AS run_2,
       NULL::bigint AS shared
FROM records GROUP BY arena
UNION ALL
SELECT 'contents', 'all', count(*) FILTER (WHERE in_1), count(*) FILTER (WHERE in_2),
       count(*) FILTER (WHERE in_1 AND in_2)
FROM contents
ORDER BY 1, 2
