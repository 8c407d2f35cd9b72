-- The objects coordination pairs, for the scope's records in one scan of the scope
-- (_scope_links.sql): the links (enrichment_urls) and, as url_type 'near_dup' with the
-- group's first record as url_key, the records in a near-duplicate group of two or more
-- (enrichment_near_dup_clusters, record_near_duplicates). Stored as the temp table
-- research_links of coordination only (link mining and propagation store links_in_scope.sql).
WITH objects AS (
    SELECT record_id, published_at, url_type, url_key, url_clean, registered_domain
    FROM enrichment_urls
    UNION ALL
    SELECT record_id, published_at, 'near_dup', near_dup_cluster_id::text, NULL, NULL
    FROM enrichment_near_dup_clusters
    WHERE near_dup_cluster_size >= 2
)
{{ scope_links(objects) }}
