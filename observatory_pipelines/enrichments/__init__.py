"""Per-record enrichments of content_records: links, tags, engagement, near-duplicates."""
