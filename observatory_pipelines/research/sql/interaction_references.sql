-- Reply (reference_kind 'reply') or quote ('quote') network: author → the author of the record
-- it answers or quotes, directed; weight = the author's replies (quotes) to that author.
-- Where the platforms keep the reference (raw_metadata, see docs/analysis.md):
--   bluesky reply: reply.parent.uri (an AT URI, our platform_id); quote: the record embed
--     (app.bsky.embed.record, or recordWithMedia's record) of a post;
--   reddit reply: parent_id, t1_<comment> or t3_<post>;
--   x_twitter reply: in_reply_to_id (TwitterAPI.io) or referenced_tweets replied_to (X API v2),
--     its author in_reply_to_user_id; quote: quoted_tweet_id or referenced_tweets quoted.
-- The parent's author when the design holds the parent; else the author the reference names
-- (the DID inside the AT URI, X's user id) — that author's node when they are an author of
-- the design, else "<platform>:<id>"; else "<platform>:post:<id>" (type external).
-- Replies to one's own records are loops: dropped.
WITH {{ interaction_scoped }},
{{ interaction_design_authors }},
raw_refs AS (
    SELECT s.record_id, s.platform, s.author_key, s.author_display_name,
           CASE WHEN CAST(:reference_kind AS text) = 'reply' THEN
               CASE s.platform
                   WHEN 'bluesky' THEN c.raw_metadata #>> '{reply,parent,uri}'
                   WHEN 'reddit' THEN c.raw_metadata ->> 'parent_id'
                   WHEN 'x_twitter' THEN coalesce(
                       c.raw_metadata ->> 'in_reply_to_id',
                       (SELECT r ->> 'id' FROM jsonb_array_elements(
                           CASE WHEN jsonb_typeof(c.raw_metadata -> 'referenced_tweets') = 'array'
                                THEN c.raw_metadata -> 'referenced_tweets' END) AS r
                        WHERE r ->> 'type' = 'replied_to' LIMIT 1))
               END
           ELSE
               CASE s.platform
                   WHEN 'bluesky' THEN
                       CASE WHEN c.raw_metadata #>> '{embed,$type}'
                                 LIKE 'app.bsky.embed.recordWithMedia%'
                            THEN c.raw_metadata #>> '{embed,record,record,uri}'
                            WHEN c.raw_metadata #>> '{embed,$type}' LIKE 'app.bsky.embed.record%'
                            THEN c.raw_metadata #>> '{embed,record,uri}' END
                   WHEN 'x_twitter' THEN coalesce(
                       c.raw_metadata ->> 'quoted_tweet_id',
                       (SELECT r ->> 'id' FROM jsonb_array_elements(
                           CASE WHEN jsonb_typeof(c.raw_metadata -> 'referenced_tweets') = 'array'
                                THEN c.raw_metadata -> 'referenced_tweets' END) AS r
                        WHERE r ->> 'type' = 'quoted' LIMIT 1))
               END
           END AS reference,
           CASE WHEN CAST(:reference_kind AS text) = 'reply' AND s.platform = 'x_twitter'
                THEN c.raw_metadata ->> 'in_reply_to_user_id' END AS named_author
    FROM scoped AS s
    JOIN content_records AS c ON c.id = s.record_id AND c.published_at = s.published_at
    WHERE s.author_key IS NOT NULL AND s.platform IN ('bluesky', 'reddit', 'x_twitter')
),
refs AS (
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name, r.reference,
           CASE WHEN r.platform = 'reddit' THEN substr(r.reference, 4) ELSE r.reference END
               AS parent_platform_id,
           CASE WHEN r.platform = 'reddit' AND r.reference LIKE 't1\_%' THEN 'comment'
                WHEN r.platform = 'reddit' THEN 'post' END AS parent_content_type,
           CASE WHEN r.platform = 'bluesky' THEN split_part(substr(r.reference, 6), '/', 1)
                ELSE r.named_author END AS parent_author
    FROM raw_refs AS r
    WHERE r.reference IS NOT NULL
      AND (r.platform <> 'bluesky' OR r.reference LIKE 'at://%/app.bsky.feed.post/%')
      AND (r.platform <> 'reddit' OR r.reference ~ '^t[13]_[a-z0-9]+$')
),
parents AS (
    SELECT c.platform, c.platform_id, c.content_type,
           coalesce(
               c.pseudonymized_author_id,
               CASE WHEN c.author_display_name IS NOT NULL
                    THEN 'name:' || c.platform || ':' || c.author_display_name END
           ) AS author_key,
           c.author_display_name
    FROM content_record_collections AS l
    JOIN content_records AS c ON c.id = l.content_record_id AND c.published_at = l.published_at
    WHERE l.query_design_id = CAST(:query_design_id AS uuid)
      AND c.platform IN ('bluesky', 'reddit', 'x_twitter')
),
resolved AS (
    SELECT r.record_id, r.platform, r.author_key, r.author_display_name,
           coalesce(p.author_key, a.author_key, r.platform || ':' || r.parent_author,
                    r.platform || ':post:' || r.parent_platform_id) AS target,
           coalesce(p.author_display_name, a.display_name, r.parent_author,
                    r.platform || ' ' || r.reference) AS target_label,
           CASE WHEN coalesce(p.author_key, a.author_key) IS NOT NULL THEN 'actor'
                ELSE 'external' END AS target_type
    FROM refs AS r
    LEFT JOIN parents AS p
        ON p.platform = r.platform AND p.platform_id = r.parent_platform_id
       AND (r.parent_content_type IS NULL OR p.content_type = r.parent_content_type)
       AND p.author_key IS NOT NULL
    LEFT JOIN design_authors AS a
        ON p.author_key IS NULL AND a.platform = r.platform
       AND a.author_platform_id = r.parent_author
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
