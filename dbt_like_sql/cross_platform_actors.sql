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
-- actors on two or more platforms, found in one pass over the identified authors (their first
-- and last platform differ); only their rows are then summed per platform
multi AS (
    SELECT i.actor_key
    FROM identified AS i
    WHERE i.actor_key IS NOT NULL
    GROUP BY i.actor_key
    HAVING min(i.platform COLLATE "C") <> max(i.platform COLLATE "C")
),
per_platform AS (
    SELECT i.actor_key, max(i.actor_id::text) AS actor_id, i.platform,
           max(i.display_name COLLATE "C") AS display_name, sum(i.post_count)::bigint AS post_count
    FROM identified AS i
    JOIN multi AS m ON m.actor_key = i.actor_key
    GROUP BY i.actor_key, i.platform
)
SELECT pp.actor_key,
       coalesce(act.canonical_name, pp.display_name, pp.actor_key) AS label,
       pp.actor_id,
       pp.platform,
       pp.post_count,
       count(*) OVER (PARTITION BY pp.actor_key) AS platform_count
FROM per_platform AS pp
LEFT JOIN actors AS act ON act.id = CAST(pp.actor_id AS uuid)
