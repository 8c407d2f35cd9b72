DROP TABLE IF EXISTS enrichment_sentiment;
