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
-- record), sec_from_first (seconds after the object's first paired share) and the seconds
-- from the previous and to the next paired share of the object (a share whose both
-- neighbours are farther than the window pairs with none); NULL on excluded shares. An
-- object's number of paired shares is its last seq (coordination_window.sql).
WITH self_domains AS MATERIALIZED (  -- the news records' own URLs, in one scan for the two below
    SELECT platform || ':' || author AS account, author_id, registered_domain
    FROM research_links
    WHERE url_type = 'self_reference' AND is_news AND registered_domain IS NOT NULL
      AND (author IS NOT NULL OR author_id IS NOT NULL)
),
own_domains AS (
    SELECT DISTINCT account, registered_domain FROM self_domains WHERE account IS NOT NULL
),
actor_domains AS (
    SELECT DISTINCT author_id, registered_domain FROM self_domains WHERE author_id IS NOT NULL
),
shares AS (
    -- links and near-duplicate records in one scan: a near_dup row has no registered domain
    -- (coordination_links.sql), so it matches no own domain and is never a self_link
    SELECT CASE WHEN l.url_type = 'near_dup' THEN 'near_dup' ELSE 'url' END AS object_type,
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
       CASE WHEN j.excluded IS NULL
            THEN extract(epoch FROM j.shared_at - first_value(j.shared_at) OVER paired) END
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
-- one window, so one pass: the first share's time is the first row's (ordered by time)
WINDOW paired AS (PARTITION BY j.object COLLATE "C", j.object_type, j.excluded IS NULL
                  ORDER BY j.shared_at, j.account, j.record_id)
