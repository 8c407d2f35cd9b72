-- The texts of the design's records in the scope with their calendar slice (the ISO week's
-- Monday or the month's first day, Europe/Copenhagen), in storage order: the slices are
-- counted in Python without sorting the texts (research/emergent_terms.py).
SELECT date_trunc(CAST(:period AS text),
                  c.published_at AT TIME ZONE 'Europe/Copenhagen')::date AS slice,
       concat_ws(E'\n', c.title, c.text_content) AS text
FROM {{ scope_records }}
WHERE {{ scope_where }}
