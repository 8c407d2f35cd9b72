-- The scope's records in near-duplicate groups of two or more (enrichment_near_dup_clusters,
-- record_near_duplicates), with the outlet each speaks for: on news arenas the outlet of the
-- record's own URL (enrichments/reference/outlets.csv), else its registered domain, else the
-- feed's name; elsewhere the account (platform + display name, else pseudonym).
-- undated: published_at is the collection time; counted, never used for order or lag.
SELECT n.near_dup_cluster_id AS cluster_id,
       c.id AS record_id,
       c.published_at,
       c.platform,
       c.pseudonymized_author_id AS author,
       coalesce(c.raw_metadata ->> 'published_at_source' = 'collected_at', false) AS undated,
       CASE WHEN c.arena IN ('news_media', 'news')
            THEN coalesce(own.outlet, own.registered_domain, c.author_display_name, c.platform)
            ELSE coalesce(c.platform || ':'
                          || coalesce(c.author_display_name, c.pseudonymized_author_id),
                          c.platform)
       END AS outlet
FROM {{ scope_records }}
JOIN enrichment_near_dup_clusters AS n ON n.record_id = c.id AND n.published_at = c.published_at
LEFT JOIN enrichment_urls AS own
  ON own.record_id = c.id AND own.published_at = c.published_at
 AND own.url_type = 'self_reference'
WHERE {{ scope_where }}
  AND n.near_dup_cluster_size >= 2
