-- Per object type: pair edges before the cut, the percentile weight, edges kept.
WITH {{ coordination_kept }}
SELECT c.object_type,
       c.pair_edges,
       c.percentile_weight,
       (SELECT count(*) FROM kept AS k WHERE k.object_type = c.object_type) AS kept_edges
FROM cuts AS c
ORDER BY c.object_type
