-- The design's authors by platform id (a Bluesky DID, an X user id), from the temp table
-- interaction_parents: the temp table interaction_authors. A mentioned or replied-to DID of
-- someone we collected becomes that author's node.
SELECT p.platform,
       p.author_platform_id,
       min(p.author_key COLLATE "C") AS author_key,
       max(p.author_display_name COLLATE "C") AS display_name
FROM interaction_parents AS p
WHERE p.platform IN ('bluesky', 'x_twitter')
  AND p.author_platform_id IS NOT NULL AND p.author_key IS NOT NULL
GROUP BY p.platform, p.author_platform_id
