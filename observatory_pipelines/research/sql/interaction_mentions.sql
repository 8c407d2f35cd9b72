-- Mention network: author → mentioned account, directed; weight = the author's records
-- mentioning it. Bluesky mention DIDs (facets) are preferred to handles; a DID of an author
-- of the design (interaction_authors) is that author's node (type actor); other targets are
-- "<platform>:<did>" or "<platform>:@<handle>" (type mentioned). Self-mentions are loops.
WITH mentioned AS (
    -- handles line up with DIDs only when every mention facet carried both. Two plain unnests,
    -- not one lateral subquery: over a subquery the planner memoizes per record (no hits,
    -- an eviction per record: 107 of the 183 s of the analysis at 1 M records).
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name, d.did,
           CASE WHEN cardinality(r.mention_ids) = cardinality(r.mentions)
                THEN r.mentions[d.n] END AS handle, d.n = 1 AS first_mention
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.mention_ids) WITH ORDINALITY AS d(did, n)
    WHERE r.author_key IS NOT NULL
    UNION ALL
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name, NULL, h.handle,
           h.n = 1
    FROM interaction_records AS r
    CROSS JOIN LATERAL unnest(r.mentions) WITH ORDINALITY AS h(handle, n)
    WHERE r.author_key IS NOT NULL AND cardinality(r.mention_ids) = 0
),
targets AS (
    SELECT m.record_id, m.platform, m.author_key, m.author_display_name, m.first_mention,
           coalesce(a.author_key, m.platform || ':' || m.did, m.platform || ':@' || m.handle)
               AS target,
           coalesce(a.display_name, '@' || m.handle, m.did) AS target_label,
           CASE WHEN a.author_key IS NOT NULL THEN 'actor' ELSE 'mentioned' END AS target_type
    FROM mentioned AS m
    LEFT JOIN interaction_authors AS a
        ON a.platform = m.platform AND a.author_platform_id = m.did
),
resolved AS (
    -- one row per record and target (two mentions of one account in a record count once;
    -- the first mention of the record marks its one first_target row)
    SELECT t.platform, t.author_key, t.author_display_name, t.target,
           max(t.target_label COLLATE "C") AS target_label, max(t.target_type) AS target_type,
           bool_or(t.first_mention) AS first_target
    FROM targets AS t
    GROUP BY t.record_id, t.platform, t.author_key, t.author_display_name, t.target
),
{{ interaction_resolved }}
