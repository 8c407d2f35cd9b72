-- Records of the design in the analysis scope per platform (the shared filters of
-- dbt_like_sql/_scope_where.sql, duplicates excluded): the denominator shares are taken of.
SELECT c.platform, count(*)::bigint AS records
FROM {{ scope_records }}
WHERE {{ scope_where }}
GROUP BY c.platform
ORDER BY c.platform
