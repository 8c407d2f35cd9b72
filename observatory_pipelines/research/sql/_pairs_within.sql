-- Fragment: after "FROM <table> AS r", every unordered pair of distinct values of r's array
-- column $1 as a.value, b.value (a.value < b.value in "C" order, so each pair once and no
-- loops): pairs built within one row (a record, or a bucket's term), never across rows.
CROSS JOIN LATERAL unnest(r.$1) AS a(value)
CROSS JOIN LATERAL unnest(r.$1) AS b(value)
WHERE cardinality(r.$1) > 1 AND a.value COLLATE "C" < b.value COLLATE "C"
