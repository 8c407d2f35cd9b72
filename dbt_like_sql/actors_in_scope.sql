-- One row per author and platform: posts and engagement (likes + shares + comments, NULL as 0,
-- views excluded). Records without any author identity are left out.
-- depends_on: stg_content
-- analyze: author_key, actor_id
-- order_by: author_key, platform
-- returns: stream
SELECT s.author_key,
       s.platform,
       max(s.pseudonymized_author_id COLLATE "C") AS pseudonymized_author_id,
       max(s.author_display_name COLLATE "C") AS display_name,
       max(CAST(s.author_id AS text) COLLATE "C")::uuid AS actor_id,
       sum(s.records)::bigint AS post_count,
       sum(s.engagement)::bigint AS total_engagement
FROM stg_content AS s
WHERE s.facet = 'author' AND s.author_key IS NOT NULL
GROUP BY s.author_key, s.platform
