-- Authors (the pseudonym, else the platform-qualified display name) in the two periods: the
-- :actor_limit most active of each period, and the most active new (none in the previous
-- period) and vanished (none in the current) ones; ties by key.
WITH counts AS (
    SELECT {{ temporal_author_key }} AS author_key,
           max(c.platform) AS platform,
           max(c.author_display_name) AS display_name,
           count(*) FILTER (WHERE c.published_at < CAST(:current_from AS timestamptz))
               AS previous,
           count(*) FILTER (WHERE c.published_at >= CAST(:current_from AS timestamptz))
               AS current
    FROM {{ scope_records }}
    WHERE {{ scope_where }}
      AND c.published_at >= CAST(:previous_from AS timestamptz)
      AND c.published_at < CAST(:current_to AS timestamptz)
      AND {{ temporal_author_key }} IS NOT NULL
    GROUP BY 1
),
lists AS (
    SELECT 'previous' AS list, k.*, row_number() OVER (ORDER BY k.previous DESC, k.author_key) AS rank
    FROM counts AS k WHERE k.previous > 0
    UNION ALL
    SELECT 'current', k.*, row_number() OVER (ORDER BY k.current DESC, k.author_key)
    FROM counts AS k WHERE k.current > 0
    UNION ALL
    SELECT 'new', k.*, row_number() OVER (ORDER BY k.current DESC, k.author_key)
    FROM counts AS k WHERE k.previous = 0
    UNION ALL
    SELECT 'vanished', k.*, row_number() OVER (ORDER BY k.previous DESC, k.author_key)
    FROM counts AS k WHERE k.current = 0
)
SELECT list, rank, author_key, platform, display_name, previous, current,
       (SELECT count(*) FROM counts AS k WHERE k.previous = 0) AS new_total,
       (SELECT count(*) FROM counts AS k WHERE k.current = 0) AS vanished_total
FROM lists
WHERE rank <= CAST(:actor_limit AS integer)
ORDER BY list, rank
