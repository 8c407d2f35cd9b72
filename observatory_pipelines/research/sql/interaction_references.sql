-- Reply (reference_kind 'reply') or quote ('quote') network: author → the author of the record
-- it answers or quotes (interaction_records: reply_ref/quote_ref), directed; weight = the
-- author's records answering (quoting) that author. The target is the parent's author when the
-- design holds the parent (interaction_parents; a Reddit t1_ is a comment, t3_ a post); else
-- the author the reference names (the DID inside the AT URI, X's in_reply_to_user_id) —
-- that author's node when they are an author of the design (interaction_authors), else
-- "<platform>:<id>"; else "<platform>:post:<id>" (type external). Answers to one's own
-- records are loops: dropped. A record is told apart by its row of interaction_records
-- (ctid), as in interaction_mentions.sql.
WITH refs AS (
    SELECT r.ctid AS record, r.platform, r.author_key, r.author_display_name, x.reference,
           CASE WHEN r.platform = 'reddit' THEN substr(x.reference, 4) ELSE x.reference END
               AS parent_platform_id,
           CASE WHEN r.platform <> 'reddit' THEN NULL
                WHEN x.reference LIKE 't1\_%' THEN 'comment' ELSE 'post' END AS parent_type,
           x.named_author
    FROM interaction_records AS r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN CAST(:reference_kind AS text) = 'reply' THEN r.reply_ref
                    ELSE r.quote_ref END AS reference,
               CASE WHEN CAST(:reference_kind AS text) = 'reply' THEN r.reply_author
                    ELSE r.quote_author END AS named_author
    ) AS x
    WHERE x.reference IS NOT NULL AND r.author_key IS NOT NULL
),
parents AS (
    SELECT DISTINCT ON (p.platform, p.platform_id, p.content_type)
           p.platform, p.platform_id, p.content_type, p.author_key, p.author_display_name
    FROM interaction_parents AS p
    JOIN (SELECT DISTINCT platform, parent_platform_id FROM refs) AS wanted
        ON wanted.platform = p.platform AND wanted.parent_platform_id = p.platform_id
    WHERE p.author_key IS NOT NULL
    ORDER BY p.platform, p.platform_id, p.content_type, p.author_key COLLATE "C"
),
targets AS (
    SELECT f.record, f.platform, f.author_key, f.author_display_name,
           coalesce(p.author_key, a.author_key, f.platform || ':' || f.named_author,
                    f.platform || ':post:' || f.parent_platform_id) AS target,
           coalesce(p.author_display_name, a.display_name, f.named_author,
                    f.platform || ' ' || f.reference) AS target_label,
           CASE WHEN coalesce(p.author_key, a.author_key) IS NOT NULL THEN 'actor'
                ELSE 'external' END AS target_type
    FROM refs AS f
    LEFT JOIN parents AS p
        ON p.platform = f.platform AND p.platform_id = f.parent_platform_id
       AND (f.parent_type IS NULL OR p.content_type = f.parent_type)
    LEFT JOIN interaction_authors AS a
        ON p.author_key IS NULL AND a.platform = f.platform
       AND a.author_platform_id = f.named_author
),
resolved AS (
    -- one row per record and target: a reference whose platform id two stored parents share
    -- (no parent type to tell them apart) gives the record both targets, each once, and
    -- one first_target row
    SELECT t.platform, t.author_key, t.author_display_name, t.target,
           max(t.target_label COLLATE "C") AS target_label, max(t.target_type) AS target_type,
           row_number() OVER (PARTITION BY t.record ORDER BY t.target COLLATE "C") = 1
               AS first_target
    FROM targets AS t
    GROUP BY t.record, t.platform, t.author_key, t.author_display_name, t.target
),
{{ interaction_resolved }}
