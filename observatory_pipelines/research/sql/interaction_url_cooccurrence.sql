-- URL co-occurrence network: two links of one record (enrichment_urls through
-- interaction_records: one node per url_key, i.e. scheme, www. and tracking parameters
-- dropped; the record's own URL left out), paired within the record; undirected, counted
-- (4CAT re-adds edges without counting). Records with the same links (and labels) on one
-- platform counted once (_list_counts.sql).
WITH lists AS (
    SELECT NULL::date AS bucket, r.platform, r.url_keys AS list, r.url_labels AS labels,
           'url' AS node_type, count(*)::bigint AS records
    FROM interaction_records AS r
    WHERE cardinality(r.url_keys) > 0
    GROUP BY r.platform, r.url_keys, r.url_labels
),
{{ list_counts }},
{{ interaction_edges }}
