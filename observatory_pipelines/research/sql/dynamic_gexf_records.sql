-- One row per record of the scope with what the time-sliced networks read, stored as the temp
-- table dynamic_records (framework.temp_table, ANALYZEd): its time bucket (date_trunc of the
-- local time in :time_zone: weeks start on Monday, the ISO week), platform, author_key as
-- in stg_content (the pseudonym, else the platform-qualified display name), the design
-- terms the record matched and its hashtags (enrichment_tags). Narrower than
-- interaction_records (no links, no references): the dynamic networks need none of them.
SELECT date_trunc(
           CAST(:granularity AS text), c.published_at AT TIME ZONE CAST(:time_zone AS text)
       )::date AS bucket,
       c.published_at,
       c.platform,
       {{ temporal_author_key }} AS author_key,
       c.author_display_name,
       coalesce(l.search_terms_matched, '{}') AS terms,
       coalesce(t.hashtags, '{}') AS hashtags
FROM {{ scope_records }}
LEFT JOIN enrichment_tags AS t ON t.record_id = c.id AND t.published_at = c.published_at
WHERE {{ scope_where }}
