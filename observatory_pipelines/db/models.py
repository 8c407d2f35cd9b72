"""SQLAlchemy 2 models of every table, matching ``migrations/`` exactly.

``tests/test_schema.py`` compares these with a migrated database and fails on
drift. ``content_records`` is created by explicit DDL (RANGE partitioned by
``published_at``); the model describes the parent table only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, OID, REAL, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NOW = text("now()")
EMPTY_JSON = text("'{}'::jsonb")


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
    }


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=NOW)


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    hashed_password: Mapped[str | None] = mapped_column(String(1024))
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), nullable=False, server_default="researcher")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    api_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = now_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=EMPTY_JSON
    )


class CreditAllocation(Base):
    __tablename__ = "credit_allocations"
    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    credits_amount: Mapped[int] = mapped_column(Integer, nullable=False)
    allocated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    allocated_at: Mapped[datetime] = now_column()
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    memo: Mapped[str | None] = mapped_column(Text)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()


class ApiCredential(Base):
    __tablename__ = "api_credentials"
    id: Mapped[uuid.UUID] = uuid_pk()
    platform: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    tier: Mapped[str] = mapped_column(String(10), nullable=False, server_default="free")
    credential_name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Fernet-encrypted JSON: {"ciphertext": "..."}; see security/credentials.py.
    credentials: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    daily_quota: Mapped[int | None] = mapped_column(Integer)
    monthly_quota: Mapped[int | None] = mapped_column(Integer)
    quota_reset_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class Actor(Base):
    __tablename__ = "actors"
    id: Mapped[uuid.UUID] = uuid_pk()
    canonical_name: Mapped[str] = mapped_column(String(500), nullable=False)
    actor_type: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    is_shared: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    created_at: Mapped[datetime] = now_column()
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=EMPTY_JSON
    )


class ActorAlias(Base):
    __tablename__ = "actor_aliases"
    __table_args__ = (UniqueConstraint("actor_id", "alias", name="uq_actor_alias"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    actor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), nullable=False
    )
    alias: Mapped[str] = mapped_column(String(500), nullable=False)


class ActorPlatformPresence(Base):
    __tablename__ = "actor_platform_presences"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_actor_presence_platform_user"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    actor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    platform_user_id: Mapped[str | None] = mapped_column(String(500))
    platform_username: Mapped[str | None] = mapped_column(String(500))
    profile_url: Mapped[str | None] = mapped_column(String(2000))
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    follower_count: Mapped[int | None] = mapped_column(BigInteger)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QueryDesign(Base):
    __tablename__ = "query_designs"
    __table_args__ = (
        # One file-managed design per name (migration 010; designs/sync.py).
        Index(
            "uq_query_designs_file_name",
            text("lower(name)"),
            unique=True,
            postgresql_where=text("source_file IS NOT NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(20), nullable=False, server_default="private")
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    default_tier: Mapped[str] = mapped_column(String(10), nullable=False, server_default="free")
    language: Mapped[str] = mapped_column(String(10), nullable=False, server_default="da")
    locale_country: Mapped[str] = mapped_column(String(5), nullable=False, server_default="dk")
    arenas_config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    # Designs written as files (migration 010): where from, the file's SHA-256, a fingerprint of
    # what it collects and when that last changed (the collection sensor then runs it again).
    source_file: Mapped[str | None] = mapped_column(Text)
    source_hash: Mapped[str | None] = mapped_column(String(64))
    collection_fingerprint: Mapped[str | None] = mapped_column(String(64))
    collection_revised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SearchTerm(Base):
    __tablename__ = "search_terms"
    id: Mapped[uuid.UUID] = uuid_pk()
    query_design_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("query_designs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    term: Mapped[str] = mapped_column(Text, nullable=False)
    term_type: Mapped[str] = mapped_column(String(50), nullable=False, server_default="keyword")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    added_at: Mapped[datetime] = now_column()
    # Terms of one design sharing a group are ANDed; groups and ungrouped terms (NULL) are ORed.
    term_group: Mapped[int | None] = mapped_column(Integer)


class ActorList(Base):
    __tablename__ = "actor_lists"
    id: Mapped[uuid.UUID] = uuid_pk()
    query_design_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("query_designs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    sampling_method: Mapped[str | None] = mapped_column(String(50))


class ActorListMember(Base):
    __tablename__ = "actor_list_members"
    actor_list_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("actor_lists.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = now_column()
    added_by: Mapped[str] = mapped_column(String(50), nullable=False, server_default="manual")


class CollectionRun(Base):
    __tablename__ = "collection_runs"
    id: Mapped[uuid.UUID] = uuid_pk()
    query_design_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("query_designs.id", ondelete="SET NULL"), index=True
    )
    initiated_by: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    mode: Mapped[str] = mapped_column(String(20), nullable=False, server_default="batch")
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    tier: Mapped[str] = mapped_column(String(10), nullable=False, server_default="free")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    date_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    date_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arenas_config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    estimated_credits: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    credits_spent: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    records_collected: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # Migration 009: records new to the design (sum of its tasks'), stored by it or not.
    records_attributed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error_log: Mapped[str | None] = mapped_column(Text)
    # Migration 006: a pending run that never started has an age for the dead-run sweep.
    created_at: Mapped[datetime] = now_column()


class CollectionTask(Base):
    __tablename__ = "collection_tasks"
    id: Mapped[uuid.UUID] = uuid_pk()
    collection_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collection_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    arena: Mapped[str] = mapped_column(String(50), nullable=False)
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    # The original's celery_task_id: here the id of the Dagster run that collected this task.
    dagster_run_id: Mapped[str | None] = mapped_column(String(255))
    credential_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_credentials.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    records_collected: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # Migration 009: records this task linked to its design that the design did not have yet.
    records_attributed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    duplicates_skipped: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    records_rejected: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # What this task's arena was charged (migration 005): settlement after a crash uses it.
    credits_spent: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error_message: Mapped[str | None] = mapped_column(Text)
    rate_limit_state: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    # Migration 006: set on every page the task stores; the sweep judges idleness by it.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Migration 007: every source skipped, with its reason; sources that answered 304.
    skipped_sources: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    sources_not_modified: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class HttpCache(Base):
    """Migration 007: the validators a source URL last sent, read by every later run."""

    __tablename__ = "http_cache"
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = now_column()


class BilledRead(Base):
    """Migration 017: a read a pay-per-use platform billed a credential for on a UTC day
    (X API v2 bills a post or user once a day per app); ids only."""

    __tablename__ = "billed_reads"
    __table_args__ = (
        CheckConstraint("kind IN ('post', 'user')", name="billed_reads_kind_check"),
        CheckConstraint("length(read_id) <= 64", name="billed_reads_read_id_check"),
    )
    credential_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    billed_day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    read_id: Mapped[str] = mapped_column(Text, primary_key=True)


class CreditTransaction(Base):
    __tablename__ = "credit_transactions"
    __table_args__ = (
        Index("idx_credit_tx_user_created", "user_id", "created_at", "id"),
        Index("idx_credit_tx_run", "collection_run_id"),
        Index(
            "uq_credit_tx_run_arena_type",
            "collection_run_id",
            "arena",
            "platform",
            "transaction_type",
            unique=True,
            postgresql_where=text("collection_run_id IS NOT NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    collection_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("collection_runs.id", ondelete="SET NULL")
    )
    arena: Mapped[str | None] = mapped_column(String(50))
    platform: Mapped[str | None] = mapped_column(String(50))
    tier: Mapped[str | None] = mapped_column(String(10))
    credits_consumed: Mapped[int] = mapped_column(Integer, nullable=False)
    transaction_type: Mapped[str] = mapped_column(String(50), nullable=False)
    created_at: Mapped[datetime] = now_column()
    description: Mapped[str | None] = mapped_column(Text)


class UniversalContentRecord(Base):
    """Parent of the monthly partitions ``content_records_YYYY_MM`` (see migrations/sql)."""

    __tablename__ = "content_records"
    __table_args__ = (
        PrimaryKeyConstraint("id", "published_at", name="content_records_pkey"),
        UniqueConstraint(
            "platform", "platform_id", "published_at", name="uq_content_platform_id_published"
        ),
        ForeignKeyConstraint(["author_id"], ["actors.id"], ondelete="SET NULL"),
        ForeignKeyConstraint(["collection_run_id"], ["collection_runs.id"], ondelete="SET NULL"),
        ForeignKeyConstraint(["query_design_id"], ["query_designs.id"], ondelete="SET NULL"),
        Index("idx_content_platform", "platform"),
        Index("idx_content_arena", "arena"),
        Index("idx_content_published", "published_at"),
        Index("idx_content_query", "query_design_id"),
        Index("idx_content_hash", "content_hash"),
        Index("idx_content_author", "author_id"),
        # Migration 011: an erasure finds a platform user's records by pseudonym.
        Index("idx_content_pseudonym", "pseudonymized_author_id"),
        Index("idx_content_terms", "search_terms_matched", postgresql_using="gin"),
        Index("idx_content_metadata", "raw_metadata", postgresql_using="gin"),
        Index(
            "idx_content_fulltext",
            text(
                "to_tsvector('danish'::regconfig, "
                "(COALESCE(text_content, ''::text) || ' '::text) || COALESCE(title, ''::text))"
            ),
            postgresql_using="gin",
        ),
        {"postgresql_partition_by": "RANGE (published_at)"},
    )
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), nullable=False, server_default=text("gen_random_uuid()")
    )
    # NOT NULL: records without a source date get collected_at here and
    # raw_metadata.published_at_source = 'collected_at' (docs/architecture.md).
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    arena: Mapped[str] = mapped_column(String(50), nullable=False)
    platform_id: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(50), nullable=False)
    url: Mapped[str | None] = mapped_column(String(2000))
    text_content: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(10))
    collected_at: Mapped[datetime] = now_column()
    author_platform_id: Mapped[str | None] = mapped_column(String(500))
    author_display_name: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    pseudonymized_author_id: Mapped[str | None] = mapped_column(String(64))
    views_count: Mapped[int | None] = mapped_column(BigInteger)
    likes_count: Mapped[int | None] = mapped_column(BigInteger)
    shares_count: Mapped[int | None] = mapped_column(BigInteger)
    comments_count: Mapped[int | None] = mapped_column(BigInteger)
    engagement_score: Mapped[float | None] = mapped_column(Float)
    collection_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    query_design_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    search_terms_matched: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    collection_tier: Mapped[str] = mapped_column(String(10), nullable=False)
    raw_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    media_urls: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)


class ContentRecordCollection(Base):
    """Migration 008: every design that collected a record, and the design's runs that did.

    The design's records are its rows here (never ``content_records.query_design_id``, which
    names only the design that stored the record first). No foreign key to content_records:
    partition maintenance moves rows by DELETE + INSERT (see migrations/sql/008_*). The
    design and first run are not foreign keys either since migration 018: statement triggers
    check them once per ingest statement instead of once per row, and cascade (design) or
    unset (run) on delete as the keys did (migrations/sql/018_link_reference_checks.sql).
    """

    __tablename__ = "content_record_collections"
    query_design_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    content_record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    first_collection_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    collection_run_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'::uuid[]")
    )
    # The design's own search terms the record matched.
    search_terms_matched: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    first_collected_at: Mapped[datetime] = now_column()


class ErasureLog(Base):
    """Migration 011: what each GDPR erasure did; no personal data (docs/erasure.md)."""

    __tablename__ = "erasure_log"
    __table_args__ = (
        CheckConstraint(
            "identified_by IN ('actor', 'platform_user')", name="erasure_log_identified_by"
        ),
        CheckConstraint("status IN ('outputs_pending', 'completed')", name="erasure_log_status"),
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    erased_at: Mapped[datetime] = now_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    request_reference: Mapped[str] = mapped_column(String(100), nullable=False)
    identified_by: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default="outputs_pending"
    )
    rows_deleted: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    rows_by_partition: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSON
    )
    affected_design_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'::uuid[]")
    )
    object_keys_deleted: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    outputs_error: Mapped[str | None] = mapped_column(Text)


# --- Migration 012: per-record enrichments (observatory_pipelines/enrichments) ---
# Keyed like content_records, (record_id, published_at); no foreign key to it (partition
# maintenance and retention move or detach its rows; the enrichment run prunes orphans).


def _record_key() -> tuple[Mapped[uuid.UUID], Mapped[datetime]]:
    return (
        mapped_column(UUID(as_uuid=True), primary_key=True),
        mapped_column(DateTime(timezone=True), primary_key=True),
    )


class EnrichmentVersion(Base):
    """The method version each enrichment's tables hold; another version empties them."""

    __tablename__ = "enrichment_versions"
    enrichment: Mapped[str] = mapped_column(Text, primary_key=True)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    set_at: Mapped[datetime] = now_column()
    # migration 015: partitions at the last full pass (NULL: the next run is one) and the
    # marker rows held, kept by the runs
    swept_partitions: Mapped[list[int] | None] = mapped_column(ARRAY(OID))
    enriched_records: Mapped[int | None] = mapped_column(BigInteger)


class EnrichmentChange(Base):
    """Migration 015: a record inserted or deleted since the enrichment last ran."""

    __tablename__ = "enrichment_changes"
    enrichment: Mapped[str] = mapped_column(Text, primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentUrlRecord(Base):
    __tablename__ = "enrichment_url_records"
    record_id, published_at = _record_key()
    url_count: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentUrl(Base):
    __tablename__ = "enrichment_urls"
    __table_args__ = (
        UniqueConstraint("record_id", "published_at", "url_key", name="uq_enrichment_urls_key"),
        Index("idx_enrichment_urls_domain", "registered_domain"),
        Index("idx_enrichment_urls_key", "url_key"),
    )
    record_id, published_at = _record_key()
    ordinal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    url_type: Mapped[str] = mapped_column(Text, nullable=False)
    url_raw: Mapped[str] = mapped_column(Text, nullable=False)
    url_clean: Mapped[str] = mapped_column(Text, nullable=False)
    url_key: Mapped[str] = mapped_column(Text, nullable=False)
    host: Mapped[str] = mapped_column(Text, nullable=False)
    registered_domain: Mapped[str | None] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(Text)
    is_shortener: Mapped[bool] = mapped_column(Boolean, nullable=False)
    domain_only: Mapped[bool] = mapped_column(Boolean, nullable=False)


class EnrichmentTags(Base):
    __tablename__ = "enrichment_tags"
    __table_args__ = (
        Index("idx_enrichment_tags_hashtags", "hashtags", postgresql_using="gin"),
        Index("idx_enrichment_tags_mentions", "mentions", postgresql_using="gin"),
    )
    record_id, published_at = _record_key()
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    mentions: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    mention_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    subreddit_refs: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentEngagement(Base):
    __tablename__ = "enrichment_engagement"
    record_id, published_at = _record_key()
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    eng_likes_shares_comments: Mapped[int | None] = mapped_column(BigInteger)
    eng_composite: Mapped[int | None] = mapped_column(BigInteger)
    eng_weighted: Mapped[float | None] = mapped_column(Float)
    eng_score: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentSentiment(Base):
    """Migration 014; the CHECKs on scored/skip_reason/label live in its SQL."""

    __tablename__ = "enrichment_sentiment"
    record_id, published_at = _record_key()
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    language: Mapped[str | None] = mapped_column(Text)
    scored: Mapped[bool] = mapped_column(Boolean, nullable=False)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(Text)
    title_score: Mapped[float | None] = mapped_column(Float)
    body_score: Mapped[float | None] = mapped_column(Float)
    afinn_raw: Mapped[int | None] = mapped_column(Integer)
    sentiment_method: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentTerms(Base):
    """Migration 016: terms[i] occurs counts[i] times in the record."""

    __tablename__ = "enrichment_terms"
    record_id, published_at = _record_key()
    token_count: Mapped[int] = mapped_column(Integer, nullable=False)
    terms: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentEntityRecord(Base):
    __tablename__ = "enrichment_entity_records"
    record_id, published_at = _record_key()
    entity_count: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentEntity(Base):
    __tablename__ = "enrichment_entities"
    __table_args__ = (
        Index(
            "idx_enrichment_entities_actor",
            "actor_id",
            postgresql_where=text("actor_id IS NOT NULL"),
        ),
    )
    record_id, published_at = _record_key()
    ordinal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    entity_type: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    start_offset: Mapped[int] = mapped_column(Integer, nullable=False)
    end_offset: Mapped[int] = mapped_column(Integer, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    confidence: Mapped[float] = mapped_column(REAL, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)


class EnrichmentNearDup(Base):
    __tablename__ = "enrichment_near_dup"
    __table_args__ = (
        Index(
            "idx_enrichment_near_dup_group",
            "group_id",
            postgresql_where=text("group_id IS NOT NULL"),
        ),
    )
    record_id, published_at = _record_key()
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    jaccard: Mapped[float | None] = mapped_column(REAL)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    method_version: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentNearDupGroup(Base):
    __tablename__ = "enrichment_near_dup_groups"
    group_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    origin_record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    origin_published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    origin_signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EnrichmentNearDupBucket(Base):
    __tablename__ = "enrichment_near_dup_buckets"
    __table_args__ = (  # migration 015: a deleted record's buckets found by its key
        Index("idx_enrichment_near_dup_buckets_record", "record_id", "published_at"),
    )
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    record_id, published_at = _record_key()


class AnalysisFacetState(Base):
    """Migration 013: a design whose standard-scope facets are stored (analysis/facets.py)."""

    __tablename__ = "analysis_facet_state"
    query_design_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("query_designs.id", ondelete="CASCADE"), primary_key=True
    )
    code_version: Mapped[str] = mapped_column(Text, nullable=False)
    partitions: Mapped[list[int]] = mapped_column(ARRAY(OID), nullable=False)
    refreshed_at: Mapped[datetime] = now_column()
    last_mode: Mapped[str] = mapped_column(Text, nullable=False)
    last_reason: Mapped[str | None] = mapped_column(Text)
    last_changes_folded: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )


class _FacetInputs:
    """The facet inputs shared by the stored facets and the change log (migration 013)."""

    collection_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    pseudonymized_author_id: Mapped[str | None] = mapped_column(Text)
    author_display_name: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    author_platform_id: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    likes_count: Mapped[int | None] = mapped_column(BigInteger)
    shares_count: Mapped[int | None] = mapped_column(BigInteger)
    comments_count: Mapped[int | None] = mapped_column(BigInteger)
    views_count: Mapped[int | None] = mapped_column(BigInteger)


class AnalysisFacet(_FacetInputs, Base):
    """Migration 013: one stg_content row of a design's standard scope (no foreign keys: a
    deleted design's rows go with its links, see the migration's triggers)."""

    __tablename__ = "analysis_facets"
    query_design_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    facet_key: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    facet: Mapped[str] = mapped_column(Text, nullable=False)
    platform: Mapped[str | None] = mapped_column(Text)
    arena: Mapped[str | None] = mapped_column(Text)
    hour: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author_key: Mapped[str | None] = mapped_column(Text)
    records: Mapped[int] = mapped_column(BigInteger, nullable=False)
    engagement: Mapped[int | None] = mapped_column(BigInteger)
    scope_records: Mapped[int | None] = mapped_column(BigInteger)


class AnalysisFacetChange(_FacetInputs, Base):
    """Migration 013: a signed facet input logged by the triggers, consumed by a refresh."""

    __tablename__ = "analysis_facet_changes"
    __table_args__ = (CheckConstraint("sign IN (-1, 1)", name="analysis_facet_changes_sign_check"),)
    query_design_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    change_id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    sign: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    arena: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


ALL_MODELS = [
    User,
    CreditAllocation,
    RefreshToken,
    ApiCredential,
    Actor,
    ActorAlias,
    ActorPlatformPresence,
    QueryDesign,
    SearchTerm,
    ActorList,
    ActorListMember,
    CollectionRun,
    CollectionTask,
    HttpCache,
    BilledRead,
    CreditTransaction,
    UniversalContentRecord,
    ContentRecordCollection,
    ErasureLog,
    EnrichmentVersion,
    EnrichmentChange,
    EnrichmentUrlRecord,
    EnrichmentUrl,
    EnrichmentTags,
    EnrichmentEngagement,
    EnrichmentSentiment,
    EnrichmentTerms,
    EnrichmentEntityRecord,
    EnrichmentEntity,
    EnrichmentNearDup,
    EnrichmentNearDupGroup,
    EnrichmentNearDupBucket,
    AnalysisFacetState,
    AnalysisFacet,
    AnalysisFacetChange,
]
