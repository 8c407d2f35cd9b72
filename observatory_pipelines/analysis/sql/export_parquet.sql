-- Export columns in a shape Arrow's CSV reader types exactly: times as epoch microseconds,
-- term lists as chr(31) before every element (so '' is an empty list and chr(31) a list of
-- one empty string), NULL elements as chr(30), split back into list<string>.
SELECT r.query_design, r.platform, r.arena, r.content_type, r.title, r.text_content, r.url,
       r.author_display_name, r.pseudonymized_author_id,
       CAST(extract(epoch FROM r.published_at) * 1000000 AS bigint) AS published_at,
       r.views, r.likes, r.shares, r.comments, r.engagement_score, r.language,
       r.collection_tier,
       CASE WHEN cardinality(r.search_terms_matched) > 0
            THEN chr(31) || array_to_string(r.search_terms_matched, chr(31), chr(30))
            WHEN r.search_terms_matched IS NOT NULL THEN '' END AS search_terms_matched,
       r.content_hash
FROM ({{ export_rows }}) AS r
