-- One JSON object per record (ISO timestamps in UTC, lists as arrays), streamed as-is by COPY.
SELECT CAST(json_build_object(
    'query_design', r.query_design,
    'platform', r.platform,
    'arena', r.arena,
    'content_type', r.content_type,
    'title', r.title,
    'text_content', r.text_content,
    'url', r.url,
    'author_display_name', r.author_display_name,
    'pseudonymized_author_id', r.pseudonymized_author_id,
    'published_at', r.published_at,
    'views', r.views,
    'likes', r.likes,
    'shares', r.shares,
    'comments', r.comments,
    'engagement_score', r.engagement_score,
    'language', r.language,
    'collection_tier', r.collection_tier,
    'search_terms_matched', r.search_terms_matched,
    'content_hash', r.content_hash
) AS text) AS line
FROM ({{ export_rows }}) AS r
