-- One row per author and platform: posts and engagement (likes + shares + comments, NULL as 0,
-- views excluded). Records without any author identity are left out.
-- depends_on: stg_content
SELECT s.author_key,
       s.platform,
       max(s.pseudonymized_author_id) AS pseudonymized_author_id,
       max(s.author_display_name) AS display_name,
       (array_agg(s.author_id) FILTER (WHERE s.author_id IS NOT NULL))[1] AS actor_id,
       count(*)::bigint AS post_count,
       sum(s.engagement)::bigint AS total_engagement
FROM stg_content AS s
WHERE s.author_key IS NOT NULL
GROUP BY s.author_key, s.platform
