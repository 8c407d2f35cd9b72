-- Mean sentiment per platform of the scope's scored records (enrichment_sentiment, read only
-- when that table exists), and how many were scored.
SELECT c.platform, round(CAST(avg(s.sentiment_score) AS numeric), 4)::float8 AS sentiment_mean,
       count(*) AS sentiment_scored
FROM {{ scope_records }}
JOIN enrichment_sentiment AS s ON s.record_id = c.id AND s.published_at = c.published_at
WHERE {{ scope_where }} AND s.scored
GROUP BY c.platform
