-- Active query designs created since the sensor's watermark (minus an overlap for late commits).
SELECT id, created_at, arenas_config
FROM query_designs
WHERE is_active
  AND created_at >= CAST(:since AS timestamptz)
ORDER BY created_at, id
LIMIT :limit
