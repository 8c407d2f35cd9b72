-- The validators sources sent on one page, by URL; a newer answer replaces an older one.
INSERT INTO http_cache (url, etag, last_modified, updated_at)
SELECT v.url, v.etag, v.last_modified, now()
FROM jsonb_to_recordset(CAST(:validators AS jsonb)) AS v (url text, etag text, last_modified text)
ON CONFLICT (url) DO UPDATE
SET etag = EXCLUDED.etag,
    last_modified = EXCLUDED.last_modified,
    updated_at = EXCLUDED.updated_at;
