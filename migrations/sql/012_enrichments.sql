-- Per-record enrichments (observatory_pipelines/enrichments, spec enrichments.md §0, §2).
-- Every table is keyed like content_records, (record_id, published_at), so a join on the
-- primary key prunes partitions. No foreign key to content_records: partition maintenance
-- and retention move or detach its rows; results of records that are gone are pruned by
-- the enrichment run itself (framework.prune_orphans).

-- The method version each enrichment's tables currently hold; a different current version
-- empties them, so the next run recomputes every record.
CREATE TABLE enrichment_versions (
    enrichment text PRIMARY KEY,
    method_version text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);

-- URLs: one marker row per record (also for records without links), one row per link.
CREATE TABLE enrichment_url_records (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    url_count integer NOT NULL,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at)
);

CREATE TABLE enrichment_urls (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    ordinal smallint NOT NULL,
    url_type text NOT NULL,
    url_raw text NOT NULL,
    url_clean text NOT NULL,
    url_key text NOT NULL,
    host text NOT NULL,
    registered_domain text,
    outlet text,
    is_shortener boolean NOT NULL,
    domain_only boolean NOT NULL,
    PRIMARY KEY (record_id, published_at, ordinal),
    CONSTRAINT uq_enrichment_urls_key UNIQUE (record_id, published_at, url_key)
);
CREATE INDEX idx_enrichment_urls_domain ON enrichment_urls (registered_domain);
CREATE INDEX idx_enrichment_urls_key ON enrichment_urls (url_key);

-- Hashtags and mentions, one row per record (empty arrays when there are none).
CREATE TABLE enrichment_tags (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    hashtags text[] NOT NULL,
    mentions text[] NOT NULL,
    mention_ids text[] NOT NULL,
    subreddit_refs text[] NOT NULL,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at)
);
CREATE INDEX idx_enrichment_tags_hashtags ON enrichment_tags USING gin (hashtags);
CREATE INDEX idx_enrichment_tags_mentions ON enrichment_tags USING gin (mentions);

-- Engagement, one row per record; NULL figures where the platform reports no counts.
CREATE TABLE enrichment_engagement (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    platform text NOT NULL,
    eng_likes_shares_comments bigint,
    eng_composite bigint,
    eng_weighted double precision,
    eng_score double precision,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at)
);

-- The percentile rank of the composite within (platform, calendar month, UTC), computed
-- when read: it moves as the month fills, so it is never stored.
CREATE VIEW enrichment_engagement_pct AS
SELECT
    e.record_id,
    e.published_at,
    e.platform,
    e.eng_composite,
    round(
        (percent_rank() OVER (
            PARTITION BY e.platform, date_trunc('month', e.published_at AT TIME ZONE 'UTC')
            ORDER BY e.eng_composite
        ))::numeric,
        4
    ) AS eng_pct_platform
FROM enrichment_engagement AS e
WHERE e.eng_composite IS NOT NULL;

-- Named entities without a model: actor gazetteer and capitalised spans (one marker row
-- per record, one row per entity; offsets into title + newline + text).
CREATE TABLE enrichment_entity_records (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    entity_count integer NOT NULL,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at)
);

CREATE TABLE enrichment_entities (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    ordinal smallint NOT NULL,
    name text NOT NULL,
    entity_type text NOT NULL,
    actor_id uuid,
    start_offset integer NOT NULL,
    end_offset integer NOT NULL,
    role text NOT NULL,
    confidence real NOT NULL,
    method text NOT NULL,
    PRIMARY KEY (record_id, published_at, ordinal)
);
CREATE INDEX idx_enrichment_entities_actor ON enrichment_entities (actor_id)
    WHERE actor_id IS NOT NULL;

-- Near-duplicates: each compared record's MinHash signature (NULL for texts too short to
-- compare) and group; the LSH buckets of the signatures (a record identical to a grouped
-- one adds none), so a run over new records queries the stored index instead of hashing the
-- old ones; one row per group of two or more, so a record joining a group writes its own
-- row and the group's, not every member's.
CREATE TABLE enrichment_near_dup (
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    signature bytea,
    group_id uuid,
    jaccard real,
    method text NOT NULL,
    method_version text NOT NULL,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (record_id, published_at)
);
CREATE INDEX idx_enrichment_near_dup_group ON enrichment_near_dup (group_id)
    WHERE group_id IS NOT NULL;

CREATE TABLE enrichment_near_dup_groups (
    group_id uuid PRIMARY KEY,
    origin_record_id uuid NOT NULL,
    origin_published_at timestamptz NOT NULL,
    origin_signature bytea NOT NULL,
    size integer NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE enrichment_near_dup_buckets (
    bucket bigint NOT NULL,
    record_id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    PRIMARY KEY (bucket, record_id, published_at)
);

-- Per record: its group's first record (itself when it has no near-duplicate), the group's
-- size, its estimated Jaccard similarity to that first record; NULLs when not compared.
CREATE VIEW enrichment_near_dup_clusters AS
SELECT
    n.record_id,
    n.published_at,
    CASE WHEN n.signature IS NOT NULL THEN coalesce(g.origin_record_id, n.record_id) END
        AS near_dup_cluster_id,
    CASE WHEN n.signature IS NOT NULL THEN coalesce(g.origin_published_at, n.published_at) END
        AS near_dup_cluster_published_at,
    CASE WHEN n.signature IS NOT NULL THEN coalesce(g.size, 1) END AS near_dup_cluster_size,
    CASE WHEN n.signature IS NOT NULL THEN coalesce(n.jaccard, 1.0) END AS near_dup_jaccard,
    CASE
        WHEN n.signature IS NOT NULL
        THEN g.group_id IS NULL
            OR (g.origin_record_id = n.record_id AND g.origin_published_at = n.published_at)
    END AS is_cluster_origin,
    n.method_version
FROM enrichment_near_dup AS n
LEFT JOIN enrichment_near_dup_groups AS g ON g.group_id = n.group_id;
