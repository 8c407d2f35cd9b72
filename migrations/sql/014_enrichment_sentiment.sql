-- Danish sentiment (observatory_pipelines/enrichments/sentiment.py, spec enrichments.md
-- §2.2), one row per record, keyed like content_records (see 012_enrichments.sql). Records
-- not scored (not Danish, no text) have a row too, with the reason, so they count as
-- looked at; their scores are NULL.
CREATE TABLE enrichment_sentiment (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    platform text NOT NULL,
    language text,
    scored boolean NOT NULL,
    skip_reason text,
    sentiment_score double precision,
    sentiment_label text,
    title_score double precision,
    body_score double precision,
    afinn_raw integer,
    sentiment_method text,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at),
    CONSTRAINT ck_enrichment_sentiment_scored CHECK (
        (scored AND skip_reason IS NULL AND sentiment_score BETWEEN -1 AND 1
         AND sentiment_label IS NOT NULL AND afinn_raw IS NOT NULL)
        OR (NOT scored AND skip_reason IN ('no_text', 'not_danish')
            AND sentiment_score IS NULL AND sentiment_label IS NULL)
    ),
    CONSTRAINT ck_enrichment_sentiment_label CHECK (
        sentiment_label IN ('positive', 'neutral', 'negative')
    )
);
