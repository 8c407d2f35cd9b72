-- Feeds that were skipped, and conditional requests that work across runs (issue 13.9, 13.10).
--   * http_cache: the validators (ETag, Last-Modified) a source last sent, by its URL; every
--     run of every design reads them, so a rerun asks "changed since?" instead of fetching
--     again. Validators are public response headers: no secret is stored.
--   * collection_tasks.skipped_sources: every source the task skipped, with its reason
--     ([{"source", "reason", "url", "detail"}], url = host and path only).
--   * collection_tasks.sources_not_modified: sources that answered 304 Not Modified.
CREATE TABLE http_cache (
    url text PRIMARY KEY,
    etag text,
    last_modified text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE collection_tasks
    ADD COLUMN skipped_sources jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN sources_not_modified integer NOT NULL DEFAULT 0;
