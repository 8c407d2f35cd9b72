"""A freshly migrated database per test: the 001 layout (2026_02..2026_04 + default) each time.

The shared ``db`` fixture truncates tables but keeps partitions, and these tests create,
detach and drop partitions, so each test gets its own database instead.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from sqlalchemy import Engine, text

from observatory_pipelines.db.engine import get_engine, migrate
from observatory_pipelines.db.models import UniversalContentRecord
from observatory_pipelines.resources.postgres import PostgresResource

_ids = itertools.count()

# The nine parent indexes (tests/test_foundation.py checks them against the spec).
CONTENT_INDEXES = {index.name for index in UniversalContentRecord.__table__.indexes}


@pytest.fixture()
def pg_url(scratch_database: str) -> str:
    migrate(scratch_database)
    return scratch_database


@pytest.fixture()
def pg(pg_url: str) -> Engine:
    return get_engine(pg_url)


@pytest.fixture()
def postgres_resource(pg_url: str) -> PostgresResource:
    return PostgresResource(database_url=pg_url)


def insert_records(engine: Engine, published: list[datetime | str]) -> list[str]:
    """One content record per timestamp; returns their platform ids."""
    ids = [f"rec-{next(_ids)}" for _ in published]
    rows = [
        {"pid": pid, "ts": ts, "text": f"Folketinget debatterer klimaloven {pid}"}
        for pid, ts in zip(ids, published, strict=True)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier, text_content, search_terms_matched, raw_metadata) "
                "VALUES (CAST(:ts AS timestamptz), 'rss', 'news_media', :pid, 'article', 'free', "
                ":text, ARRAY['klima'], '{\"feed\": \"dr\"}')"
            ),
            rows,
        )
    return ids


def where_rows_live(engine: Engine) -> dict[str, str]:
    """platform_id -> the partition (table) holding it."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT platform_id, tableoid::regclass::text FROM content_records")
        )
        return dict(rows.all())


def total_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM content_records")).scalar_one()


def partition_bounds(engine: Engine) -> dict[str, str]:
    """name -> bound expression rendered in UTC, straight from the catalog."""
    with engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'UTC'"))
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'content_records'::regclass"
            )
        )
        return dict(rows.all())


def attached_parent_indexes(engine: Engine, partition: str) -> set[str]:
    """Parent indexes (of content_records) that have a valid child index on ``partition``."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT parent_idx.relname FROM pg_index ci "
                "JOIN pg_class child_idx ON child_idx.oid = ci.indexrelid "
                "JOIN pg_inherits inh ON inh.inhrelid = ci.indexrelid "
                "JOIN pg_class parent_idx ON parent_idx.oid = inh.inhparent "
                "JOIN pg_index pi ON pi.indexrelid = parent_idx.oid "
                "WHERE ci.indrelid = CAST(:p AS regclass) AND ci.indisvalid "
                "AND pi.indrelid = 'content_records'::regclass"
            ),
            {"p": partition},
        )
        return set(rows.scalars())
