-- Partitions of one parent with their bounds read from the catalog (never from names).
-- Bounds are rendered by pg_get_expr in the session's TimeZone/DateStyle and cast back in
-- the same session, so the round trip is exact whatever those settings are.
WITH parts AS (
    SELECT c.oid,
           c.relname AS name,
           pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = current_schema()
      AND p.relname = :parent
),
parsed AS (
    SELECT oid, name, bound,
           regexp_match(bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS r
    FROM parts
)
SELECT name,
       bound = 'DEFAULT' AS is_default,
       CASE WHEN r IS NULL OR r[1] = 'MINVALUE' THEN NULL
            ELSE btrim(r[1], '''')::timestamptz END AS range_from,
       CASE WHEN r IS NULL OR r[2] = 'MAXVALUE' THEN NULL
            ELSE btrim(r[2], '''')::timestamptz END AS range_to,
       pg_total_relation_size(oid) AS size_bytes
FROM parsed
ORDER BY is_default, range_from NULLS FIRST, name
