-- One row per record of the scope with everything the interaction networks read, stored as
-- the temp table interaction_records (framework.temp_table, ANALYZEd:
-- the network queries over it would plan badly without statistics; built in a bulk transaction, so its joins hash):
--   author_key as in stg_content (the pseudonym, else the platform-qualified display name);
--   hashtags, mentions, mention_ids
--   (enrichment_tags); url_keys/url_labels (enrichment_urls without the record's own URL:
--   url_key and url_clean, in order) and domains (registered domain, else host);
--   reply_ref/reply_author, quote_ref/quote_author: what the record answers or quotes, as the
--   platforms keep it in raw_metadata (see docs/analysis.md, interaction_networks):
--     bluesky reply: reply.parent.uri, an AT URI (our platform_id) whose DID is the author;
--       quote: the record embed (app.bsky.embed.record, or recordWithMedia's record) of a post;
--     reddit reply: parent_id, t1_<comment> or t3_<post>;
--     x_twitter reply: in_reply_to_id (TwitterAPI.io) or the replied_to referenced tweet
--       (X API v2), its author in_reply_to_user_id; quote: quoted_tweet_id or the quoted
--       referenced tweet.
SELECT r.*,
       CASE WHEN r.platform = 'bluesky' THEN split_part(substr(r.reply_ref, 6), '/', 1)
            WHEN r.platform = 'x_twitter' THEN r.raw_reply_author END AS reply_author,
       CASE WHEN r.platform = 'bluesky' THEN split_part(substr(r.quote_ref, 6), '/', 1)
            END AS quote_author
FROM (
    SELECT c.id AS record_id,
           c.platform,
           {{ temporal_author_key }} AS author_key,
           c.author_display_name,
           coalesce(t.hashtags, '{}') AS hashtags,
           coalesce(t.mentions, '{}') AS mentions,
           coalesce(t.mention_ids, '{}') AS mention_ids,
           coalesce(u.url_keys, '{}') AS url_keys,
           coalesce(u.url_labels, '{}') AS url_labels,
           coalesce(u.domains, '{}') AS domains,
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
    LEFT JOIN (
        SELECT e.record_id, e.published_at,
               array_agg(e.url_key ORDER BY e.ordinal) AS url_keys,
               array_agg(e.url_clean ORDER BY e.ordinal) AS url_labels,
               array_agg(DISTINCT coalesce(e.registered_domain, e.host)) AS domains
        FROM enrichment_urls AS e
        WHERE e.url_type <> 'self_reference'
        GROUP BY e.record_id, e.published_at
    ) AS u ON u.record_id = c.id AND u.published_at = c.published_at
    WHERE {{ scope_where }}
    OFFSET 0  -- not flattened: the outer CASEs read reply_ref/quote_ref, not two copies of them
) AS r
