-- Records of the scope (the temp table interaction_records) per time bucket of the local time
-- in :time_zone (calendar day, ISO week from Monday, or month): the buckets the dynamic
-- networks span.
SELECT date_trunc(
           CAST(:granularity AS text), r.published_at AT TIME ZONE CAST(:time_zone AS text)
       )::date AS bucket,
       count(*)::bigint AS records
FROM interaction_records AS r
GROUP BY 1
ORDER BY 1
