-- Every query design with its owner, where it came from, and its latest run.
SELECT d.name, u.email AS owner, d.is_active, d.arenas_config ->> 'mode' AS mode,
       d.source_file, d.created_at, d.updated_at,
       (SELECT count(*) FROM collection_runs AS r WHERE r.query_design_id = d.id) AS runs,
       last.status AS last_status, last.created_at AS last_run_at
FROM query_designs AS d
JOIN users AS u ON u.id = d.owner_id
LEFT JOIN LATERAL (
    SELECT r.status, r.created_at
    FROM collection_runs AS r
    WHERE r.query_design_id = d.id
    ORDER BY r.created_at DESC
    LIMIT 1
) AS last ON true
ORDER BY lower(d.name), d.created_at
