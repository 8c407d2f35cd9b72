-- The links (enrichment_urls, record_urls) of the scope's records with what every link
-- analysis needs of the record (_scope_links.sql). Stored as a temp table
-- (framework.temp_table), so link mining, propagation and coordination scan the scope once.
{{ scope_links(enrichment_urls) }}
