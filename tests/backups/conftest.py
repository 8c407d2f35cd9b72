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

from .s3_full_disk import FullDiskS3

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


def pending_uploads(resource) -> list[str]:
    """Incomplete multipart uploads in the backups bucket, asked of moto itself (boto3)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{resource.endpoint}",
        aws_access_key_id=resource.access_key,
        aws_secret_access_key=resource.secret_key,
        region_name=resource.region,
    )
    uploads = s3.list_multipart_uploads(Bucket=resource.backup_bucket).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


@pytest.fixture()
def full_disk(s3_object_store_resource, s3_server):
    """``(proxy, store through the proxy, store straight on moto)``; same bucket behind both.

    The proxy's capacity is set by the test (``proxy.capacity``) before it writes.
    """
    from observatory_pipelines.resources.object_store import ObjectStoreResource

    on_moto = s3_object_store_resource
    with FullDiskS3(s3_server, capacity=0) as proxy:
        # A new resource, not a model_copy: Dagster rebuilds resources from their config.
        through = ObjectStoreResource(
            **{**on_moto.model_dump(), "endpoint": proxy.endpoint},
        )
        yield proxy, through, on_moto


def fill_to_about(engine, mebibytes: int) -> None:
    """About ``mebibytes`` MiB more dump: 1 KiB of text per row (level 0 keeps it that size)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_records (published_at, platform, arena, platform_id, "
                "content_type, collection_tier, text_content) "
                "SELECT '2026-03-01', 'bench', 'news_media', 'big-' || n, 'article', 'free', "
                "repeat(md5(n::text), 32) FROM generate_series(1, :rows) AS n"
            ),
            {"rows": mebibytes * 1024},
        )


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
