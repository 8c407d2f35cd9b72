-- Per platform: records the sentiment enrichment looked at, those it scored (Danish, with
-- text), the count per label and the mean score of the scored ones.
SELECT
    s.platform,
    count(*) AS records,
    count(*) FILTER (WHERE s.scored) AS scored,
    count(*) FILTER (WHERE s.sentiment_label = 'positive') AS positive,
    count(*) FILTER (WHERE s.sentiment_label = 'neutral') AS neutral,
    count(*) FILTER (WHERE s.sentiment_label = 'negative') AS negative,
    round(avg(s.sentiment_score)::numeric, 4) AS mean_score
FROM enrichment_sentiment AS s
GROUP BY s.platform
ORDER BY s.platform
