-- Records of the scope (the temp table dynamic_records) per time bucket of the local time
-- in its time zone (calendar day, ISO week from Monday, or month): the buckets the dynamic
-- networks span.
SELECT r.bucket, count(*)::bigint AS records
FROM dynamic_records AS r
GROUP BY r.bucket
ORDER BY r.bucket
