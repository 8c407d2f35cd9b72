-- Fragment (CTEs after WITH): the weight cut per object type — the :percentile quantile of
-- all pair weights (CooRnet's percentile_edge_weight) and at least :min_weight — and the
-- edges that pass it.
cuts AS (
    SELECT object_type,
           count(*) AS pair_edges,
           percentile_cont(CAST(:percentile AS float8)) WITHIN GROUP (ORDER BY weight::float8)
               AS percentile_weight
    FROM research_coord_edges
    GROUP BY object_type
),
kept AS (
    SELECT e.*
    FROM research_coord_edges AS e
    JOIN cuts AS c USING (object_type)
    WHERE e.weight >= CAST(:min_weight AS integer) AND e.weight >= c.percentile_weight
)
