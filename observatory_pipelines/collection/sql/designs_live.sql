-- Active live-mode designs that existed before the window's end (newer ones got their first
-- window from the sensor).
SELECT id
FROM query_designs
WHERE is_active
  AND arenas_config ->> 'mode' = 'live'
  AND created_at < CAST(:window_end AS timestamptz)
ORDER BY created_at, id
