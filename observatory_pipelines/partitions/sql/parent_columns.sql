SELECT a.attname
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
  AND c.relname = :parent
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
