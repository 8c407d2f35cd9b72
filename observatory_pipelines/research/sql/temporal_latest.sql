-- The latest publication time in the scope before :horizon (now, or the scope's end).
SELECT max(c.published_at) AS latest
FROM {{ scope_records }}
WHERE {{ scope_where }}
  AND c.published_at < CAST(:horizon AS timestamptz)
