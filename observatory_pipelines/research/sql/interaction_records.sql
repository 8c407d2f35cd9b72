-- One row per record of the scope with anything the interaction networks read, stored as
-- the temp table interaction_records (framework.temp_table, ANALYZEd:
-- the network queries over it would plan badly without statistics; built in a bulk transaction, so its joins hash;
-- no record id: the networks that count a record once per target tell records apart by their row, ctid):
--   author_key as in stg_content (the pseudonym, else the platform-qualified display name);
--   hashtags, mentions, mention_ids
--   (enrichment_tags); url_keys/url_labels (enrichment_urls without the record's own URL:
--   url_key and url_clean, in order) and domains (registered domain, else host; in the same
--   order, so a domain may repeat); each list NULL when the record has none;
--   reply_ref/reply_author, quote_ref/quote_author: what the record answers or quotes, as the
--   platforms keep it in raw_metadata (see docs/analysis.md, interaction_networks):
--     bluesky reply: reply.parent.uri, an AT URI (our platform_id) whose DID is the author;
--       quote: the record embed (app.bsky.embed.record, or recordWithMedia's record) of a post;
--     reddit reply: parent_id, t1_<comment> or t3_<post>;
--     x_twitter reply: in_reply_to_id (TwitterAPI.io) or the replied_to referenced tweet
--       (X API v2), its author in_reply_to_user_id; quote: quoted_tweet_id or the quoted
--       referenced tweet.
SELECT r.platform, r.author_key, r.author_display_name, r.hashtags, r.mentions, r.mention_ids,
       u.url_keys, u.url_labels, u.domains, r.reply_ref, r.quote_ref,
       CASE WHEN r.platform = 'bluesky' THEN split_part(substr(r.reply_ref, 6), '/', 1)
            WHEN r.platform = 'x_twitter' THEN r.raw_reply_author END AS reply_author,
       CASE WHEN r.platform = 'bluesky' THEN split_part(substr(r.quote_ref, 6), '/', 1)
            END AS quote_author
FROM (
    SELECT c.id, c.published_at, c.platform,
           {{ temporal_author_key }} AS author_key,
           c.author_display_name,
           -- NULL, not an empty array, for a record without any: an empty array takes 16
           -- bytes, and at 1 M records the table must stay within temp_buffers
           nullif(t.hashtags, '{}') AS hashtags,
           nullif(t.mentions, '{}') AS mentions,
           nullif(t.mention_ids, '{}') AS mention_ids,
           CASE c.platform
               WHEN 'bluesky' THEN CASE WHEN c.raw_metadata #>> '{reply,parent,uri}'
                                             LIKE 'at://%/app.bsky.feed.post/%'
                                        THEN c.raw_metadata #>> '{reply,parent,uri}' END
               WHEN 'reddit' THEN CASE WHEN c.raw_metadata ->> 'parent_id' ~ '^t[13]_[a-z0-9]+$'
                                       THEN c.raw_metadata ->> 'parent_id' END
               WHEN 'x_twitter'
               THEN coalesce(c.raw_metadata ->> 'in_reply_to_id', {{ x_referenced(replied_to) }})
           END AS reply_ref,
           CASE WHEN c.platform = 'x_twitter' THEN c.raw_metadata ->> 'in_reply_to_user_id' END
               AS raw_reply_author,
           CASE c.platform
               WHEN 'bluesky' THEN (
                   SELECT q FROM (SELECT CASE
                       WHEN c.raw_metadata #>> '{embed,$type}' LIKE 'app.bsky.embed.recordWithMedia%'
                       THEN c.raw_metadata #>> '{embed,record,record,uri}'
                       WHEN c.raw_metadata #>> '{embed,$type}' LIKE 'app.bsky.embed.record%'
                       THEN c.raw_metadata #>> '{embed,record,uri}' END AS q) AS e
                   WHERE q LIKE 'at://%/app.bsky.feed.post/%')
               WHEN 'x_twitter'
               THEN coalesce(c.raw_metadata ->> 'quoted_tweet_id', {{ x_referenced(quoted) }})
           END AS quote_ref
    FROM {{ scope_records }}
    LEFT JOIN enrichment_tags AS t ON t.record_id = c.id AND t.published_at = c.published_at
    WHERE {{ scope_where }}
    -- not flattened: the outer CASEs read reply_ref/quote_ref, not two copies of them; and
    -- planned on its own, so its select list (the raw_metadata reads) runs in the parallel
    -- workers under its Gather: joined to the links inside, the leader computed it after
    -- the join (6.5 -> 6.0 s at 1 M, EXPLAIN ANALYZE)
    OFFSET 0
) AS r
LEFT JOIN (
    -- only the links of the design (a semi-join); a domain repeated in a record is kept
    -- (_author_values.sql counts its first position). Not in link order: no network reads
    -- an order (pairs, first positions and sums are the same in any), and the three lists of
    -- a record are built from the same rows in the same order, so they stay aligned; the
    -- parallel sort under the aggregate orders by the record alone (EXPLAIN ANALYZE at 1 M)
    SELECT e.record_id, e.published_at,
           array_agg(e.url_key) AS url_keys,
           array_agg(e.url_clean) AS url_labels,
           array_agg(coalesce(e.registered_domain, e.host)) AS domains
    FROM enrichment_urls AS e
    WHERE e.url_type <> 'self_reference'
      AND e.record_id IN (SELECT d.content_record_id FROM content_record_collections AS d
                          WHERE d.query_design_id = CAST(:query_design_id AS uuid))
    GROUP BY e.record_id, e.published_at
) AS u ON u.record_id = r.id AND u.published_at = r.published_at
-- a record with none of what the networks pair (no tag, mention, link, reply or quote) is in
-- none of them: every network query filters on its own list or reference
WHERE coalesce(r.hashtags, r.mentions, r.mention_ids, u.url_keys) IS NOT NULL
   OR r.reply_ref IS NOT NULL OR r.quote_ref IS NOT NULL
