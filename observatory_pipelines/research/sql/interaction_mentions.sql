-- Mention network: author → mentioned account, directed; weight = the author's records
-- mentioning it. Bluesky mention DIDs (facets) are preferred to handles; a DID of an author
-- of the design (interaction_authors) is that author's node (type actor); other targets are
-- "<platform>:<did>" or "<platform>:@<handle>" (type mentioned). Self-mentions are loops.
-- A record is told apart by its row of interaction_records (ctid: the table is not changed
-- while this statement runs), so the table stores no record id.
WITH mentioned AS (
    -- one row per mention: a DID when the record has any (handles line up with DIDs only
    -- when every mention facet carried both), else a handle. One scan, the list unnested only
    -- for records that mention someone, by a plain unnest (a lateral subquery was memoized
    -- per record, no hits: 107 of the 183 s of the analysis at 1 M records).
    SELECT m.record, m.platform, m.author_key, m.author_display_name,
           CASE WHEN m.by_did THEN m.value END AS did,
           CASE WHEN NOT m.by_did THEN m.value
                WHEN cardinality(m.mention_ids) = cardinality(m.mentions) THEN m.mentions[m.n]
           END AS handle,
           m.n = 1 AS first_mention
    FROM (
        SELECT r.ctid AS record, r.platform, r.author_key, r.author_display_name,
               r.mention_ids IS NOT NULL AS by_did, r.mention_ids, r.mentions, e.value, e.n
        FROM interaction_records AS r
        CROSS JOIN LATERAL unnest(coalesce(r.mention_ids, r.mentions)) WITH ORDINALITY AS e(value, n)
        WHERE r.author_key IS NOT NULL AND (r.mention_ids IS NOT NULL OR r.mentions IS NOT NULL)
    ) AS m
),
targets AS (
    SELECT m.record, m.platform, m.author_key, m.author_display_name, m.first_mention,
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
    GROUP BY t.record, t.platform, t.author_key, t.author_display_name, t.target
),
{{ interaction_resolved }}
