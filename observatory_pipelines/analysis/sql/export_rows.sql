-- The records of one scope in export column order (spec section 5), oldest first.
-- {{ scope_records }} / {{ scope_where }} are the fragments the SQL models use: the design's
-- records are its links, so the design column is the exported design (never the design that
-- stored the record first) and the terms are the ones this design matched.
SELECT qd.name AS query_design,
       c.platform,
       c.arena,
       c.content_type,
       c.title,
       c.text_content,
       c.url,
       c.author_display_name,
       c.pseudonymized_author_id,
       c.published_at,
       c.views_count AS views,
       c.likes_count AS likes,
       c.shares_count AS shares,
       c.comments_count AS comments,
       c.engagement_score,
       c.language,
       c.collection_tier,
       l.search_terms_matched,
       c.content_hash
FROM {{ scope_records }}
JOIN query_designs AS qd ON qd.id = l.query_design_id
WHERE {{ scope_where }}
ORDER BY c.published_at, c.id
