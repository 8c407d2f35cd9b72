-- Actors seen on two or more platforms in scope. Identity: the record's resolved actor
-- (author_id, else the actor whose platform presence matches the record's platform user id),
-- else the pseudonym. One row per (actor, platform) with that platform's post count.
-- Reads the author facet (records already folded per distinct author), so the presence join
-- and the keys are computed per author, not per record.
-- depends_on: stg_content
-- order_by: actor_key, platform
WITH authors AS (
    SELECT s.author_id, s.author_platform_id, s.pseudonymized_author_id, s.platform,
           max(s.author_display_name COLLATE "C") AS display_name,
           sum(s.records)::bigint AS post_count
    FROM stg_content AS s
    WHERE s.facet = 'author'
      AND (s.author_id IS NOT NULL OR s.author_platform_id IS NOT NULL
           OR s.pseudonymized_author_id IS NOT NULL)
    GROUP BY 1, 2, 3, 4
),
identified AS (
    SELECT coalesce(a.author_id, app.actor_id) AS actor_id,
           CASE WHEN coalesce(a.author_id, app.actor_id) IS NOT NULL
                THEN 'actor:' || coalesce(a.author_id, app.actor_id)::text
                WHEN a.pseudonymized_author_id IS NOT NULL
                THEN 'author:' || a.pseudonymized_author_id END AS actor_key,
           a.platform, a.display_name, a.post_count
    FROM authors AS a
    LEFT JOIN actor_platform_presences AS app
           ON app.platform = a.platform AND app.platform_user_id = a.author_platform_id
),
per_platform AS (
    SELECT actor_key, max(actor_id::text) AS actor_id, platform,
           max(display_name COLLATE "C") AS display_name, sum(post_count)::bigint AS post_count
    FROM identified
    WHERE actor_key IS NOT NULL
    GROUP BY actor_key, platform
),
multi AS (
    SELECT actor_key, count(*)::bigint AS platform_count
    FROM per_platform
    GROUP BY actor_key
    HAVING count(*) >= 2
)
SELECT pp.actor_key,
       coalesce(act.canonical_name, pp.display_name, pp.actor_key) AS label,
       pp.actor_id,
       pp.platform,
       pp.post_count,
       m.platform_count
FROM per_platform AS pp
JOIN multi AS m USING (actor_key)
LEFT JOIN actors AS act ON act.id = CAST(pp.actor_id AS uuid)
