-- URL co-occurrence network: two links (enrichment_urls, one node per url_key: scheme, www.
-- and tracking parameters dropped) in one record; undirected, counted (4CAT re-adds edges
-- without counting). A record's own URL (self_reference) is no link it shares: left out.
WITH {{ interaction_scoped }},
urls AS (
    SELECT DISTINCT s.record_id, s.platform, u.url_key, u.url_clean
    FROM scoped AS s
    JOIN enrichment_urls AS u ON u.record_id = s.record_id AND u.published_at = s.published_at
    WHERE u.url_type <> 'self_reference'
),
occurrences AS (
    SELECT u.record_id, u.url_key AS node, u.url_clean AS label, 'url' AS node_type, u.platform
    FROM urls AS u
),
links AS (
    SELECT a.record_id, a.url_key AS source, b.url_key AS target
    FROM urls AS a
    JOIN urls AS b ON b.record_id = a.record_id AND a.url_key COLLATE "C" < b.url_key COLLATE "C"
),
{{ interaction_edges }}
