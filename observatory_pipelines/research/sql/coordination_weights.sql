-- How many account pairs co-shared how many distinct objects (before the cut), per type.
SELECT object_type, weight, count(*) AS pairs
FROM research_coord_edges
GROUP BY object_type, weight
ORDER BY object_type, weight
