-- Mention network: author → mentioned account, directed; weight = the author's records
-- mentioning it. Bluesky mention DIDs (facets) are preferred to handles; a DID of an author
-- of the design is that author's node (type actor); other targets are "<platform>:<did>" or
-- "<platform>:@<handle>" (type mentioned). Self-mentions are loops: dropped.
WITH {{ interaction_scoped }},
{{ interaction_design_authors }},
mentioned AS (
    SELECT s.record_id, s.platform, s.author_key, s.author_display_name, m.did, m.handle
    FROM scoped AS s
    JOIN enrichment_tags AS e ON e.record_id = s.record_id AND e.published_at = s.published_at
    CROSS JOIN LATERAL (
        -- handles line up with DIDs only when every mention facet carried both
        SELECT d.did,
               CASE WHEN cardinality(e.mention_ids) = cardinality(e.mentions)
                    THEN e.mentions[d.n] END AS handle
        FROM unnest(e.mention_ids) WITH ORDINALITY AS d(did, n)
        UNION ALL
        SELECT NULL, h.handle
        FROM unnest(e.mentions) AS h(handle)
        WHERE cardinality(e.mention_ids) = 0
    ) AS m
    WHERE s.author_key IS NOT NULL
),
resolved AS (
    SELECT m.record_id, m.platform, m.author_key, m.author_display_name,
           coalesce(a.author_key, m.platform || ':' || m.did, m.platform || ':@' || m.handle)
               AS target,
           coalesce(a.display_name, '@' || m.handle, m.did) AS target_label,
           CASE WHEN a.author_key IS NOT NULL THEN 'actor' ELSE 'mentioned' END AS target_type
    FROM mentioned AS m
    LEFT JOIN design_authors AS a ON a.platform = m.platform AND a.author_platform_id = m.did
),
occurrences AS (
    SELECT r.record_id, r.author_key AS node, r.author_display_name AS label,
           'actor' AS node_type, r.platform
    FROM resolved AS r
    UNION ALL
    SELECT r.record_id, r.target, r.target_label, r.target_type, r.platform
    FROM resolved AS r
),
links AS (
    SELECT r.record_id, r.author_key AS source, r.target
    FROM resolved AS r
),
{{ interaction_edges }}
