-- Active query designs created or revised (what they collect changed: designs/sync.py sets
-- collection_revised_at) since the sensor's watermark (minus an overlap for late commits).
SELECT id, GREATEST(created_at, COALESCE(collection_revised_at, created_at)) AS changed_at,
       arenas_config, collection_revised_at
FROM query_designs
WHERE is_active
  AND GREATEST(created_at, COALESCE(collection_revised_at, created_at))
      >= CAST(:since AS timestamptz)
ORDER BY changed_at, id
LIMIT :limit
