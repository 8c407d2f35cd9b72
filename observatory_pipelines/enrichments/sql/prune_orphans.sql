-- Results whose record is gone (erased, or its partition dropped by retention).
DELETE FROM {table} AS r
WHERE NOT EXISTS (
    SELECT 1 FROM content_records AS c
    WHERE c.id = r.record_id AND c.published_at = r.published_at
)
