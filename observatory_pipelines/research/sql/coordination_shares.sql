-- Shares the co-sharing analysis pairs, one per (object, record): a link of a record
-- (object type 'url', object = url_key; the record's own URL is no share) and a record in a
-- near-duplicate group of two or more ('near_dup', object = the group's first record).
-- Both are rows of research_links, which coordination stores from coordination_links.sql
-- (the scope is scanned once for the two).
-- account = platform + pseudonym (pseudonyms are per platform); records without an author
-- or without a publication date are left out. excluded names why a share is not paired:
-- 'self_link' (the link's registered domain is the account's own outlet: a domain of its
-- own news records' URLs, or of news records of the same resolved actor) or 'news_arena'
-- (RSS, GDELT and web news times are feed or crawl times; unless :include_news_arenas).
-- Each paired share also gets, in one sort of the shares, what the window estimate and the
-- pairing read: seq (its place among its object's paired shares by time, then account and
-- record), n_shares (the object's paired shares), sec_from_first (seconds after the
-- object's first paired share) and the seconds from the previous and to the next paired share
-- of the object (a share whose both neighbours are farther than the window pairs with none);
-- NULL on excluded shares.
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
    WHERE l.url_type NOT IN ('self_reference', 'near_dup') AND NOT l.undated
      AND l.author IS NOT NULL
    UNION ALL
    SELECT 'near_dup',
           n.url_key,
           n.platform,
           n.platform || ':' || n.author,
           n.author_name,
           n.record_id,
           n.published_at,
           n.is_news,
           false
    FROM research_links AS n
    WHERE n.url_type = 'near_dup' AND NOT n.undated AND n.author IS NOT NULL
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
           AS sec_from_first,
       CASE WHEN j.excluded IS NULL
            THEN extract(epoch FROM j.shared_at - lag(j.shared_at) OVER paired) END
           AS sec_from_previous,
       CASE WHEN j.excluded IS NULL
            THEN extract(epoch FROM lead(j.shared_at) OVER paired - j.shared_at) END
           AS sec_to_next
FROM judged AS j
-- partitioned by the object first, in "C" order: the same partitions (equality is byte
-- equality either way), but the sort of ~0.9 M shares at 1 M compares bytes (abbreviated keys)
-- instead of calling strcoll per comparison (3x faster at 100 k)
WINDOW object AS (PARTITION BY j.object COLLATE "C", j.object_type, j.excluded IS NULL),
       paired AS (object ORDER BY j.shared_at, j.account, j.record_id)
