-- Shares the co-sharing analysis pairs, one per (object, record): a link of a record
-- (object type 'url', object = url_key; the record's own URL is no share) and a record in a
-- near-duplicate group of two or more ('near_dup', object = the group's first record).
-- account = platform + pseudonym (pseudonyms are per platform); records without an author
-- or without a publication date are left out. excluded names why a share is not paired:
-- 'self_link' (the link's registered domain is the account's own outlet: a domain of its
-- own news records' URLs, or of news records of the same resolved actor) or 'news_arena'
-- (RSS, GDELT and web news times are feed or crawl times; unless :include_news_arenas).
-- Each paired share also gets, in one sort of the shares, what the window estimate and the
-- pairing read: seq (its place among its object's paired shares by time, then account and
-- record), n_shares (the object's paired shares) and sec_from_first (seconds after the
-- object's first paired share); NULL on excluded shares.
WITH own_domains AS (
    SELECT DISTINCT platform || ':' || author AS account, registered_domain
    FROM research_links
    WHERE url_type = 'self_reference' AND is_news AND author IS NOT NULL
      AND registered_domain IS NOT NULL
),
actor_domains AS (
    SELECT DISTINCT author_id, registered_domain
    FROM research_links
    WHERE url_type = 'self_reference' AND is_news AND author_id IS NOT NULL
      AND registered_domain IS NOT NULL
),
shares AS (
    SELECT 'url' AS object_type,
           l.url_key AS object,
           l.platform,
           l.platform || ':' || l.author AS account,
           l.author_name,
           l.record_id,
           l.published_at AS shared_at,
           l.is_news,
           o.account IS NOT NULL OR a.author_id IS NOT NULL AS self_link
    FROM research_links AS l
    LEFT JOIN own_domains AS o
      ON o.account = l.platform || ':' || l.author AND o.registered_domain = l.registered_domain
    LEFT JOIN actor_domains AS a
      ON a.author_id = l.author_id AND a.registered_domain = l.registered_domain
    WHERE l.url_type <> 'self_reference' AND NOT l.undated AND l.author IS NOT NULL
    UNION ALL
    SELECT 'near_dup',
           n.near_dup_cluster_id::text,
           c.platform,
           c.platform || ':' || c.pseudonymized_author_id,
           c.author_display_name,
           c.id,
           c.published_at,
           c.arena IN ('news_media', 'news'),
           false
    FROM {{ scope_records }}
    JOIN enrichment_near_dup_clusters AS n
      ON n.record_id = c.id AND n.published_at = c.published_at
    WHERE {{ scope_where }}
      AND n.near_dup_cluster_size >= 2
      AND c.pseudonymized_author_id IS NOT NULL
      AND NOT coalesce(c.raw_metadata ->> 'published_at_source' = 'collected_at', false)
),
judged AS (
    SELECT object_type, object, platform, account, author_name, record_id, shared_at, is_news,
           CASE WHEN self_link THEN 'self_link'
                WHEN is_news AND NOT CAST(:include_news_arenas AS boolean) THEN 'news_arena'
           END AS excluded
    FROM shares
)
SELECT j.*,
       CASE WHEN j.excluded IS NULL THEN row_number() OVER paired END AS seq,
       CASE WHEN j.excluded IS NULL THEN count(*) OVER object END AS n_shares,
       CASE WHEN j.excluded IS NULL
            THEN extract(epoch FROM j.shared_at - min(j.shared_at) OVER object) END
           AS sec_from_first
FROM judged AS j
WINDOW object AS (PARTITION BY j.object_type, j.object, j.excluded IS NULL),
       paired AS (object ORDER BY j.shared_at, j.account, j.record_id)
