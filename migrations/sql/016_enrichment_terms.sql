-- The words and two-word phrases of each record (observatory_pipelines/enrichments/terms.py,
-- spec enrichments.md §3.4), one row per record, keyed like content_records (see
-- 012_enrichments.sql); records without a kept token have a row too (token_count 0, empty
-- arrays), so they count as looked at. terms[i] occurs counts[i] times in the record (a
-- bigram is its two tokens joined by one space); token_count counts the kept unigrams.
-- Two arrays rather than a jsonb object: unnest(terms, counts) needs no parsing.
CREATE TABLE enrichment_terms (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    token_count integer NOT NULL,
    terms text[] NOT NULL,
    counts integer[] NOT NULL,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at),
    CONSTRAINT ck_enrichment_terms_counts CHECK (
        cardinality(terms) = cardinality(counts) AND token_count >= 0
    )
);
