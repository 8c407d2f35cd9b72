-- Export columns in a shape Arrow's CSV reader types exactly: times as epoch microseconds,
-- term lists joined with the unit separator (chr(31)), split back into list<string>.
SELECT r.query_design, r.platform, r.arena, r.content_type, r.title, r.text_content, r.url,
       r.author_display_name, r.pseudonymized_author_id,
       CAST(extract(epoch FROM r.published_at) * 1000000 AS bigint) AS published_at,
       r.views, r.likes, r.shares, r.comments, r.engagement_score, r.language,
       r.collection_tier,
       array_to_string(r.search_terms_matched, chr(31)) AS search_terms_matched,
       r.content_hash
FROM ({{ export_rows }}) AS r
