-- The design's records that a reply or quote can point at (bluesky, reddit, x_twitter),
-- whatever the scope's other filters, with their author identity: the temp table
-- interaction_parents. A parent is resolved when the design holds it.
SELECT c.platform,
       c.platform_id,
       c.content_type,
       c.author_platform_id,
       {{ temporal_author_key }} AS author_key,
       c.author_display_name
FROM content_record_collections AS l
JOIN content_records AS c ON c.id = l.content_record_id AND c.published_at = l.published_at
WHERE l.query_design_id = CAST(:query_design_id AS uuid)
  AND c.platform IN ('bluesky', 'reddit', 'x_twitter')
