-- Records of the scope per time bucket (UTC calendar day, ISO week from Monday, or month):
-- the buckets the dynamic networks span.
SELECT date_trunc(CAST(:granularity AS text), c.published_at AT TIME ZONE 'UTC')::date AS bucket,
       count(*)::bigint AS records
FROM {{ scope_records }}
WHERE {{ scope_where }}
GROUP BY 1
ORDER BY 1
