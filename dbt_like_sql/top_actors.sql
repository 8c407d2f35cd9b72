-- The most active (or most engaging) authors; sort is allow-listed in Python and bound here.
-- params: top_limit, sort
-- depends_on: actors_in_scope
-- order_by: rank
SELECT row_number() OVER (
           ORDER BY CASE WHEN CAST(:sort AS text) = 'engagement' THEN a.total_engagement
                         ELSE a.post_count END DESC,
                    CASE WHEN CAST(:sort AS text) = 'engagement' THEN a.post_count
                         ELSE a.total_engagement END DESC,
                    a.author_key, a.platform
       ) AS rank,
       a.author_key,
       a.pseudonymized_author_id,
       a.display_name,
       act.canonical_name AS resolved_name,
       a.actor_id,
       a.platform,
       a.post_count,
       a.total_engagement
FROM actors_in_scope AS a
LEFT JOIN actors AS act ON act.id = a.actor_id
ORDER BY rank
LIMIT CAST(:top_limit AS integer)
