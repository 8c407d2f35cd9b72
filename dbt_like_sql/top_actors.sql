-- The most active (or most engaging) authors; sort is allow-listed in Python and bound here.
-- The top top_limit rows are picked first (a top-N sort of the ~20,000 authors, no full sort),
-- then ranked and named: the same rows and ranks as ranking every author.
-- params: top_limit, sort
-- depends_on: actors_in_scope
-- order_by: rank
WITH keyed AS (
    SELECT a.*,
           CASE WHEN CAST(:sort AS text) = 'engagement' THEN a.total_engagement
                ELSE a.post_count END AS first_key,
           CASE WHEN CAST(:sort AS text) = 'engagement' THEN a.post_count
                ELSE a.total_engagement END AS second_key
    FROM actors_in_scope AS a
),
top AS (
    SELECT k.*
    FROM keyed AS k
    ORDER BY k.first_key DESC, k.second_key DESC, k.author_key, k.platform
    LIMIT CAST(:top_limit AS integer)
)
SELECT row_number() OVER (
           ORDER BY t.first_key DESC, t.second_key DESC, t.author_key, t.platform
       ) AS rank,
       t.author_key,
       t.pseudonymized_author_id,
       t.display_name,
       act.canonical_name AS resolved_name,
       t.actor_id,
       t.platform,
       t.post_count,
       t.total_engagement
FROM top AS t
LEFT JOIN actors AS act ON act.id = t.actor_id
ORDER BY rank
