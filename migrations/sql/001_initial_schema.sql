-- The original Issue Observatory schema (../shared/spec/schema.md), in FK order.
-- content_records is RANGE-partitioned by published_at: never autogenerate it.

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email varchar(320) NOT NULL UNIQUE,
    hashed_password varchar(1024),
    display_name varchar(200),
    role varchar(20) NOT NULL DEFAULT 'researcher',
    is_active boolean NOT NULL DEFAULT false,
    api_key varchar(64) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE credit_allocations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credits_amount integer NOT NULL,
    allocated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    allocated_at timestamptz NOT NULL DEFAULT now(),
    valid_from date NOT NULL,
    valid_until date,
    memo text
);
CREATE INDEX ix_credit_allocations_user_id ON credit_allocations (user_id);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash varchar(64) NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id);

CREATE TABLE api_credentials (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform varchar(50) NOT NULL,
    tier varchar(10) NOT NULL DEFAULT 'free',
    credential_name varchar(200) NOT NULL,
    credentials jsonb NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    daily_quota integer,
    monthly_quota integer,
    quota_reset_at timestamptz,
    last_used_at timestamptz,
    last_error_at timestamptz,
    error_count integer NOT NULL DEFAULT 0,
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_api_credentials_platform ON api_credentials (platform);

CREATE TABLE actors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    canonical_name varchar(500) NOT NULL,
    actor_type varchar(50),
    description text,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    is_shared boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE actor_aliases (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id uuid NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    alias varchar(500) NOT NULL,
    CONSTRAINT uq_actor_alias UNIQUE (actor_id, alias)
);

CREATE TABLE actor_platform_presences (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id uuid NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    platform varchar(50) NOT NULL,
    platform_user_id varchar(500),
    platform_username varchar(500),
    profile_url varchar(2000),
    verified boolean NOT NULL DEFAULT false,
    follower_count bigint,
    last_checked_at timestamptz,
    CONSTRAINT uq_actor_presence_platform_user UNIQUE (platform, platform_user_id)
);
CREATE INDEX ix_actor_platform_presences_actor_id ON actor_platform_presences (actor_id);

CREATE TABLE query_designs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    name varchar(200) NOT NULL,
    description text,
    visibility varchar(20) NOT NULL DEFAULT 'private',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    is_active boolean NOT NULL DEFAULT true,
    default_tier varchar(10) NOT NULL DEFAULT 'free',
    language varchar(10) NOT NULL DEFAULT 'da',
    locale_country varchar(5) NOT NULL DEFAULT 'dk'
);
CREATE INDEX ix_query_designs_owner_id ON query_designs (owner_id);

CREATE TABLE search_terms (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    query_design_id uuid NOT NULL REFERENCES query_designs (id) ON DELETE CASCADE,
    term text NOT NULL,
    term_type varchar(50) NOT NULL DEFAULT 'keyword',
    is_active boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_search_terms_query_design_id ON search_terms (query_design_id);

CREATE TABLE actor_lists (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    query_design_id uuid NOT NULL REFERENCES query_designs (id) ON DELETE CASCADE,
    name varchar(200) NOT NULL,
    description text,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    sampling_method varchar(50)
);
CREATE INDEX ix_actor_lists_query_design_id ON actor_lists (query_design_id);

CREATE TABLE actor_list_members (
    actor_list_id uuid NOT NULL REFERENCES actor_lists (id) ON DELETE CASCADE,
    actor_id uuid NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    added_by varchar(50) NOT NULL DEFAULT 'manual',
    PRIMARY KEY (actor_list_id, actor_id)
);

CREATE TABLE collection_runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    query_design_id uuid REFERENCES query_designs (id) ON DELETE SET NULL,
    initiated_by uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    mode varchar(20) NOT NULL DEFAULT 'batch',
    status varchar(20) NOT NULL DEFAULT 'pending',
    tier varchar(10) NOT NULL DEFAULT 'free',
    started_at timestamptz,
    completed_at timestamptz,
    date_from timestamptz,
    date_to timestamptz,
    arenas_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    estimated_credits integer NOT NULL DEFAULT 0,
    credits_spent integer NOT NULL DEFAULT 0,
    records_collected integer NOT NULL DEFAULT 0,
    error_log text
);
CREATE INDEX ix_collection_runs_query_design_id ON collection_runs (query_design_id);

CREATE TABLE collection_tasks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    collection_run_id uuid NOT NULL REFERENCES collection_runs (id) ON DELETE CASCADE,
    arena varchar(50) NOT NULL,
    platform varchar(50) NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'pending',
    dagster_run_id varchar(255),
    credential_id uuid REFERENCES api_credentials (id) ON DELETE SET NULL,
    started_at timestamptz,
    completed_at timestamptz,
    records_collected integer NOT NULL DEFAULT 0,
    error_message text,
    rate_limit_state jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ix_collection_tasks_collection_run_id ON collection_tasks (collection_run_id);

CREATE TABLE credit_transactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    collection_run_id uuid REFERENCES collection_runs (id) ON DELETE SET NULL,
    arena varchar(50),
    platform varchar(50),
    tier varchar(10),
    credits_consumed integer NOT NULL,
    transaction_type varchar(50) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    description text
);
CREATE INDEX idx_credit_tx_user_created ON credit_transactions (user_id, created_at, id);
CREATE INDEX idx_credit_tx_run ON credit_transactions (collection_run_id);

CREATE TABLE content_records (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    published_at timestamptz NOT NULL,
    platform varchar(50) NOT NULL,
    arena varchar(50) NOT NULL,
    platform_id varchar(500),
    content_type varchar(50) NOT NULL,
    url varchar(2000),
    text_content text,
    title text,
    language varchar(10),
    collected_at timestamptz NOT NULL DEFAULT now(),
    author_platform_id varchar(500),
    author_display_name varchar(500),
    author_id uuid REFERENCES actors (id) ON DELETE SET NULL,
    pseudonymized_author_id varchar(64),
    views_count bigint,
    likes_count bigint,
    shares_count bigint,
    comments_count bigint,
    engagement_score double precision,
    collection_run_id uuid REFERENCES collection_runs (id) ON DELETE SET NULL,
    query_design_id uuid REFERENCES query_designs (id) ON DELETE SET NULL,
    search_terms_matched text[],
    collection_tier varchar(10) NOT NULL,
    raw_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    media_urls text[],
    content_hash varchar(64),
    simhash bigint,
    CONSTRAINT content_records_pkey PRIMARY KEY (id, published_at),
    CONSTRAINT uq_content_platform_id_published UNIQUE (platform, platform_id, published_at)
) PARTITION BY RANGE (published_at);

CREATE TABLE content_records_2026_02 PARTITION OF content_records
    FOR VALUES FROM ('2026-02-01 00:00:00+00') TO ('2026-03-01 00:00:00+00');
CREATE TABLE content_records_2026_03 PARTITION OF content_records
    FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00');
CREATE TABLE content_records_2026_04 PARTITION OF content_records
    FOR VALUES FROM ('2026-04-01 00:00:00+00') TO ('2026-05-01 00:00:00+00');
CREATE TABLE content_records_default PARTITION OF content_records DEFAULT;

CREATE INDEX idx_content_platform ON content_records (platform);
CREATE INDEX idx_content_arena ON content_records (arena);
CREATE INDEX idx_content_published ON content_records (published_at);
CREATE INDEX idx_content_query ON content_records (query_design_id);
CREATE INDEX idx_content_hash ON content_records (content_hash);
CREATE INDEX idx_content_author ON content_records (author_id);
CREATE INDEX idx_content_terms ON content_records USING gin (search_terms_matched);
CREATE INDEX idx_content_metadata ON content_records USING gin (raw_metadata);
CREATE INDEX idx_content_fulltext ON content_records USING gin (
    to_tsvector('danish', coalesce(text_content, '') || ' ' || coalesce(title, ''))
);
