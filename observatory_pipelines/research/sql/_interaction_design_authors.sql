-- Fragment: the CTE "design_authors": every author of the design's records (whatever the
-- scope's other filters) by platform and platform id (a Bluesky DID, an X user id), so a
-- mentioned or replied-to DID of someone we collected becomes that author's node.
design_authors AS (
    SELECT c.platform,
           c.author_platform_id,
           min(coalesce(
               c.pseudonymized_author_id,
               CASE WHEN c.author_display_name IS NOT NULL
                    THEN 'name:' || c.platform || ':' || c.author_display_name END
           ) COLLATE "C") AS author_key,
           max(c.author_display_name COLLATE "C") AS display_name
    FROM content_record_collections AS l
    JOIN content_records AS c ON c.id = l.content_record_id AND c.published_at = l.published_at
    WHERE l.query_design_id = CAST(:query_design_id AS uuid)
      AND c.platform IN ('bluesky', 'x_twitter')
      AND c.author_platform_id IS NOT NULL
    GROUP BY c.platform, c.author_platform_id
)
