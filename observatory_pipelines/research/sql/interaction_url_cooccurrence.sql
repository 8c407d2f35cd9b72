-- URL co-occurrence network: two links of one record (enrichment_urls through
-- interaction_records: one node per url_key, i.e. scheme, www. and tracking parameters
-- dropped; the record's own URL left out), paired within the record; undirected, counted
-- (4CAT re-adds edges without counting).
WITH occurrences AS (
    SELECT r.record_id, u.url_key AS node, u.url_label AS label, 'url' AS node_type, r.platform
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.url_keys, r.url_labels) AS u(url_key, url_label)
),
links AS (
    SELECT r.record_id, a.value AS source, b.value AS target
    FROM interaction_records AS r
    {{ pairs_within(url_keys) }}
),
{{ interaction_edges }}
