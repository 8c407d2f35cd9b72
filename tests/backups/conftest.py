"""Fixtures for the backup tests: a seeded test database and a backups bucket."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from observatory_pipelines.db import introspect, urls

SEED_SQL = Path(__file__).with_name("seed_rows.sql").read_text()
CONTENT_CHECKSUM = text(
    "SELECT count(*), md5(coalesce(string_agg(c::text, '|' ORDER BY id, published_at), '')) "
    "FROM content_records c"
)


def content_facts(url: str) -> tuple[dict[str, int], tuple, str | None]:
    """``(row count per table, (count, md5) of content_records, Alembic revision)`` of ``url``."""
    engine = create_engine(urls.sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            checksum = tuple(conn.execute(CONTENT_CHECKSUM).one())
        return introspect.table_row_counts(engine), checksum, introspect.schema_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture()
def seeded(db):
    """The test database, emptied and filled with ``seed_rows.sql``."""
    with db.begin() as conn:
        conn.execute(text(SEED_SQL))
    return db


@pytest.fixture()
def store(object_store_resource):
    """The backups bucket on the folder backend."""
    return object_store_resource.backups()


@pytest.fixture()
def s3_store(s3_object_store_resource):
    """The backups bucket on a real (moto) S3 server on 127.0.0.1."""
    return s3_object_store_resource.backups()


@pytest.fixture()
def secret_role(server_url, database_url):
    """A login role with a password, owning nothing; yields ``(database URL as it, password)``."""
    name = f"bk_{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    admin = urls.libpq_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}")
        # pg_dump reads each sequence's state too (serial columns, e.g. erasure_log's).
        conn.execute(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")
    url = urls.parse_database_url(database_url).set(username=name, password=password)
    yield url.render_as_string(hide_password=False), password
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture()
def log_lines():
    """The rendered JSON log lines (as written to stderr outside Dagster) during the test."""
    handler = _Lines()
    logger = logging.getLogger("observatory")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
