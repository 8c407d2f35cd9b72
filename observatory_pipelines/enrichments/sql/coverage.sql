-- Records, and records holding a result of the current method version.
SELECT
    (SELECT count(*) FROM content_records) AS records,
    (SELECT count(*)
     FROM content_records AS c
     JOIN {marker} AS m ON m.record_id = c.id AND m.published_at = c.published_at
     WHERE m.method_version = %(method_version)s) AS enriched
