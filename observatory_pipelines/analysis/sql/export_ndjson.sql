-- Export columns for the NDJSON writer (ndjson_lines.py), streamed with COPY (FORMAT text).
-- Text columns go out as text (Arrow escapes their quotes and adds the JSON punctuation);
-- the times, the engagement score (NaN/Infinity are quoted) and the term lists go out as
-- Postgres's own JSON of them, the same encoder row_to_json uses; counts print as JSON.
SELECT r.query_design, r.platform, r.arena, r.content_type, r.title, r.text_content, r.url,
       r.author_display_name, r.pseudonymized_author_id,
       to_json(r.published_at) AS published_at,
       r.views, r.likes, r.shares, r.comments,
       to_json(r.engagement_score) AS engagement_score,
       r.language, r.collection_tier,
       to_json(r.search_terms_matched) AS search_terms_matched,
       r.content_hash
FROM ({{ export_rows }}) AS r
