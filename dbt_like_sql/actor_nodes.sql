-- One node per author (over platforms): label = resolved actor name, else display name, else
-- the key; platform = the (first) platform; posts and engagement summed.
-- depends_on: actors_in_scope
-- analyze: author_key
-- order_by: author_key
-- returns: stream
SELECT a.author_key,
       coalesce(max(act.canonical_name), max(a.display_name), a.author_key) AS label,
       min(a.platform) AS platform,
       sum(a.post_count)::bigint AS post_count,
       sum(a.total_engagement)::bigint AS total_engagement
FROM actors_in_scope AS a
LEFT JOIN actors AS act ON act.id = a.actor_id
GROUP BY a.author_key
