-- Fragment: the CTE "recent": the records of dynamic_records from :since (the first bucket
-- kept), each with its bucket.
recent AS (
    SELECT r.*
    FROM dynamic_records AS r
    WHERE r.published_at >= CAST(:since AS timestamptz)
)
