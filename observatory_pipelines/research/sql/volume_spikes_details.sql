-- What each spike was made of: its three most frequent matched terms, most active authors
-- (the pseudonym, else the platform-qualified display name, as actors_in_scope) and most
-- linked URLs (enrichment_urls, clean form, counted once per record), ties by name. Every
-- spike at once: only the records of spike days are read, joined to the spikes by day (a
-- hash on the day; platform or term is the join filter), in research/framework's
-- bulk_session (hash joins, no loop of index probes per record).
WITH spikes AS (
    SELECT s.scope, s.value, s.day
    FROM unnest(CAST(:spike_scopes AS text[]), CAST(:spike_values AS text[]),
                CAST(:spike_days AS date[])) AS s(scope, value, day)
),
records AS (
    SELECT s.scope, s.value, s.day, c.id, c.published_at, l.search_terms_matched AS terms,
           coalesce(c.pseudonymized_author_id,
                    CASE WHEN c.author_display_name IS NOT NULL
                         THEN 'name:' || c.platform || ':' || c.author_display_name END)
               AS author_key
    FROM {{ scope_records }}
    JOIN spikes AS s
      ON (c.published_at AT TIME ZONE 'Europe/Copenhagen')::date = s.day
     AND CASE WHEN s.scope = 'platform' THEN c.platform = s.value
              ELSE s.value = ANY (l.search_terms_matched) END
    WHERE {{ scope_where }}
      AND (c.published_at AT TIME ZONE 'Europe/Copenhagen')::date
          = ANY (CAST(:spike_days AS date[]))
      AND c.published_at >= CAST(:complete_from AS timestamptz)
      AND c.published_at < CAST(:complete_to AS timestamptz)
),
items AS (
    SELECT r.scope, r.value, r.day, 'term' AS kind, t.term AS item, count(*) AS n
    FROM records AS r CROSS JOIN LATERAL unnest(r.terms) AS t(term)
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT r.scope, r.value, r.day, 'actor', r.author_key, count(*)
    FROM records AS r WHERE r.author_key IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT d.scope, d.value, d.day, 'url', d.url_clean, count(*)
    FROM (  -- a URL linked twice by one record counts once
        SELECT DISTINCT r.scope, r.value, r.day, u.url_clean, r.id
        FROM records AS r
        JOIN enrichment_urls AS u ON u.record_id = r.id AND u.published_at = r.published_at
    ) AS d
    GROUP BY 1, 2, 3, 5
),
ranked AS (
    SELECT i.*, row_number() OVER (PARTITION BY i.scope, i.value, i.day, i.kind
                                   ORDER BY i.n DESC, i.item) AS position
    FROM items AS i
)
SELECT scope, value, day, kind, array_agg(item ORDER BY position) AS items
FROM ranked
WHERE position <= CAST(:top_items AS integer)
GROUP BY scope, value, day, kind
