-- Fragment: the CTE "recent": the records of interaction_records from :since (the first bucket
-- kept) with their bucket (date_trunc of the local time in :time_zone: weeks start on
-- Monday, the ISO week).
recent AS (
    SELECT r.*,
           date_trunc(
               CAST(:granularity AS text), r.published_at AT TIME ZONE CAST(:time_zone AS text)
           )::date AS bucket
    FROM interaction_records AS r
    WHERE r.published_at >= CAST(:since AS timestamptz)
)
