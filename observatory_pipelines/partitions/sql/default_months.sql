-- Rows in the default partition per UTC month (date_trunc with an explicit zone, so the
-- session TimeZone does not move a row across a month boundary).
SELECT date_trunc('month', published_at, 'UTC') AS month, count(*) AS rows
FROM {default}
GROUP BY 1
ORDER BY 1
