-- URL co-occurrence network: two links of one record (enrichment_urls through
-- interaction_records: one node per url_key, i.e. scheme, www. and tracking parameters
-- dropped; the record's own URL left out), paired within the record; undirected, counted
-- (4CAT re-adds edges without counting).
WITH urls AS (
    SELECT r.record_id, r.platform, u.url_key, u.url_label
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.url_keys, r.url_labels) AS u(url_key, url_label)
),
occurrences AS (
    SELECT u.record_id, u.url_key AS node, u.url_label AS label, 'url' AS node_type, u.platform
    FROM urls AS u
),
links AS (
    SELECT r.record_id, a.url_key AS source, b.url_key AS target
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.url_keys) AS a(url_key)
    CROSS JOIN LATERAL unnest(r.url_keys) AS b(url_key)
    WHERE cardinality(r.url_keys) > 1 AND a.url_key COLLATE "C" < b.url_key COLLATE "C"
),
{{ interaction_edges }}
